// The schema ladder. Each step's SQL is frozen once released: never edit a
// step, add a new one at the end. tests/storage/fixtures/schema_v1.sql is a
// verbatim copy of step 1 and the migration test fails if they differ.
#include "ossdesk/storage/migrations.h"

#include <array>

#include "ossdesk/storage/database.h"
#include "internal.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
namespace {

// Step 1: conversations, messages (with branching and per-message stats), settings.
constexpr std::string_view kV1 = R"sql(
PRAGMA application_id = 1330860868; -- 0x4F535344, "OSSD" (kApplicationId)

CREATE TABLE conversations (
  id               INTEGER PRIMARY KEY,
  title            TEXT    NOT NULL DEFAULT '',
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL,
  pinned           INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  model            TEXT    NOT NULL DEFAULT '',
  reasoning_effort TEXT    NOT NULL DEFAULT 'medium' CHECK (reasoning_effort IN ('low', 'medium', 'high')),
  system_prompt    TEXT    NOT NULL DEFAULT '',
  temperature      REAL,
  top_p            REAL,
  top_k            INTEGER,
  min_p            REAL,
  max_tokens       INTEGER,
  seed             INTEGER,
  current_leaf_id  INTEGER REFERENCES messages(id) ON DELETE SET NULL
);

CREATE TABLE messages (
  id                  INTEGER PRIMARY KEY,
  conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  parent_id           INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  role                TEXT    NOT NULL CHECK (role IN ('system', 'developer', 'user', 'assistant', 'tool')),
  content             TEXT    NOT NULL DEFAULT '',
  reasoning           TEXT    NOT NULL DEFAULT '',
  tool_calls          TEXT    NOT NULL DEFAULT '[]',
  tool_call_id        TEXT    NOT NULL DEFAULT '',
  tool_name           TEXT    NOT NULL DEFAULT '',
  status              TEXT    NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'partial', 'cancelled', 'error')),
  interrupted         INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),
  error               TEXT    NOT NULL DEFAULT '',
  writer_pid          INTEGER,
  writer_boot         TEXT,
  created_ms          INTEGER NOT NULL,
  updated_ms          INTEGER NOT NULL,
  model               TEXT,
  backend             TEXT,
  device              TEXT,
  reasoning_effort    TEXT CHECK (reasoning_effort IS NULL OR reasoning_effort IN ('low', 'medium', 'high')),
  prompt_tokens       INTEGER,
  generated_tokens    INTEGER,
  ttft_ms             REAL,
  decode_tokens_per_s REAL,
  thinking_ms         REAL
);

CREATE INDEX messages_by_conversation ON messages(conversation_id, parent_id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX messages_partial ON messages(status) WHERE status = 'partial';
CREATE INDEX conversations_by_activity ON conversations(pinned, updated_ms);
CREATE INDEX conversations_by_leaf ON conversations(current_leaf_id);

CREATE TRIGGER messages_parent_in_same_conversation
BEFORE INSERT ON messages
WHEN NEW.parent_id IS NOT NULL
 AND (SELECT conversation_id FROM messages WHERE id = NEW.parent_id) IS NOT NEW.conversation_id
BEGIN
  SELECT RAISE(ABORT, 'the parent message belongs to another conversation');
END;

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Step 2: full-text search over conversation titles and message text. External
// content tables (the text lives once, in the base tables) kept in sync by
// triggers; 'rebuild' indexes what earlier versions stored.
constexpr std::string_view kV2 = R"sql(
CREATE VIRTUAL TABLE messages_fts USING fts5(
  content, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE conversations_fts USING fts5(
  title, content = 'conversations', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
  INSERT INTO messages_fts(rowid, content) VALUES (NEW.id, NEW.content);
END;

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
  INSERT INTO conversations_fts(rowid, title) VALUES (NEW.id, NEW.title);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
  INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', OLD.id, OLD.title);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
  INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', OLD.id, OLD.title);
  INSERT INTO conversations_fts(rowid, title) VALUES (NEW.id, NEW.title);
END;

INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild');
)sql";

// Step 3: results of `ossdesk-cli bench` for the speed panel.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE benchmark_results (
  id                   INTEGER PRIMARY KEY,
  created_ms           INTEGER NOT NULL,
  model                TEXT    NOT NULL DEFAULT '',
  backend              TEXT    NOT NULL DEFAULT '',
  device               TEXT    NOT NULL DEFAULT '',
  prompt_tokens        INTEGER,
  generated_tokens     INTEGER,
  prefill_tokens_per_s REAL,
  decode_tokens_per_s  REAL,
  ttft_ms              REAL,
  details              TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX benchmark_results_by_model ON benchmark_results(model, created_ms);
)sql";

constexpr std::array<Migration, 3> kLadder{{
    {1, "conversations, messages, settings", kV1},
    {2, "full-text search", kV2},
    {3, "benchmark results", kV3},
}};

bool has_foreign_tables(Database& db) {
  return detail::query_int64(db,
                             "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                             "reading the schema") > 0;
}

}  // namespace

namespace detail {

void require_ours(Database& db, int version) {
  const auto app_id = query_int64(db, "PRAGMA application_id", "reading the application id");
  if (version > latest_schema_version())
    throw StorageError(StorageErrorKind::TooNew,
                       where(db) + "the history was written by a newer ossdesk (schema " + std::to_string(version) +
                           ", this build knows up to " + std::to_string(latest_schema_version()) +
                           "); it was not changed");
  if ((version == 0 && has_foreign_tables(db)) || (version > 0 && app_id != kApplicationId) ||
      (app_id != 0 && app_id != kApplicationId))
    throw StorageError(StorageErrorKind::NotOurs, where(db) + "this SQLite file is not an ossdesk history (application id " +
                                                      std::to_string(app_id) + ", schema " + std::to_string(version) +
                                                      "); it was not changed");
}

}  // namespace detail

std::span<const Migration> migration_ladder() { return kLadder; }

int latest_schema_version() { return kLadder.back().version; }

void migrate(Database& db) {
  // Fast path without the write lock: most opens find the file current.
  if (db.schema_version() == latest_schema_version() &&
      detail::query_int64(db, "PRAGMA application_id", "reading the application id") == kApplicationId)
    return;
  for (;;) {
    // The version is re-read inside the write transaction: another process may
    // have migrated between our open and our lock.
    detail::Transaction tx(db, "upgrading the schema");
    const int version = db.schema_version();
    detail::require_ours(db, version);
    if (version == latest_schema_version()) return;  // the transaction rolls back: nothing was written

    const Migration& step = kLadder[static_cast<std::size_t>(version)];
    db.exec(step.sql, "upgrading the schema to version " + std::to_string(step.version) + " (" +
                          std::string(step.name) + ")");
    db.exec("PRAGMA user_version = " + std::to_string(step.version), "recording the schema version");
    detail::Statement fk(db, "PRAGMA foreign_key_check", "checking references after the upgrade");
    if (fk.step())
      throw StorageError(StorageErrorKind::Internal,
                         detail::where(db) + "upgrading to schema " + std::to_string(step.version) +
                             " found a broken reference in table " + fk.text(0) + "; the upgrade was rolled back");
    tx.commit();
  }
}

}  // namespace ossdesk::storage
