// Conversations repository (see conversations.h).
#include "ossdesk/storage/conversations.h"

#include <array>

#include "internal.h"
#include "ossdesk/storage/database.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage {
using detail::Statement;
using detail::Transaction;

namespace detail {

std::string conversation_columns(std::string_view p) {
  const std::array<const char*, 15> names{"id",          "title",  "created_ms",    "updated_ms",  "pinned",
                                          "model",       "reasoning_effort", "system_prompt", "temperature",
                                          "top_p",       "top_k",  "min_p",         "max_tokens",  "seed",
                                          "current_leaf_id"};
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(p) + n;
  return out;
}

ConversationRecord read_conversation(const Statement& st, int c) {
  ConversationRecord r;
  r.id = st.int64(c + 0);
  r.title = st.text(c + 1);
  r.created_ms = st.int64(c + 2);
  r.updated_ms = st.int64(c + 3);
  r.pinned = st.int64(c + 4) != 0;
  r.settings.model = st.text(c + 5);
  r.settings.reasoning_effort = st.text(c + 6);
  r.settings.system_prompt = st.text(c + 7);
  r.settings.sampling.temperature = st.opt_real(c + 8);
  r.settings.sampling.top_p = st.opt_real(c + 9);
  r.settings.sampling.top_k = st.opt_int64(c + 10);
  r.settings.sampling.min_p = st.opt_real(c + 11);
  r.settings.sampling.max_tokens = st.opt_int64(c + 12);
  r.settings.sampling.seed = st.opt_int64(c + 13);
  r.current_leaf_id = st.opt_int64(c + 14);
  return r;
}

void require_conversation(Database& db, RowId id) {
  Statement st(db, "SELECT 1 FROM conversations WHERE id = ?", "looking up a conversation");
  st.bind(1, id);
  if (!st.step())
    throw StorageError(StorageErrorKind::NotFound, where(db) + "there is no conversation " + std::to_string(id));
}

void validate_settings(const Database& db, const ConversationSettings& s) {
  if (!is_reasoning_effort(s.reasoning_effort))
    throw StorageError(StorageErrorKind::InvalidArgument, where(db) + "unknown reasoning effort '" +
                                                              s.reasoning_effort + "' (expected low, medium or high)");
}

}  // namespace detail

namespace {

void bind_settings(Statement& st, int first, const ConversationSettings& s) {
  st.bind(first + 0, s.model)
      .bind(first + 1, s.reasoning_effort)
      .bind(first + 2, s.system_prompt)
      .bind(first + 3, s.sampling.temperature)
      .bind(first + 4, s.sampling.top_p)
      .bind(first + 5, s.sampling.top_k)
      .bind(first + 6, s.sampling.min_p)
      .bind(first + 7, s.sampling.max_tokens)
      .bind(first + 8, s.sampling.seed);
}

void expect_changed(Database& db, RowId id) {
  if (sqlite3_changes(db.handle()) == 0)
    throw StorageError(StorageErrorKind::NotFound, detail::where(db) + "there is no conversation " + std::to_string(id));
}

}  // namespace

RowId create_conversation(Database& db, const NewConversation& c) {
  detail::validate_settings(db, c.settings);
  const std::int64_t created = c.created_ms.value_or(now_ms());
  Statement st(db,
               "INSERT INTO conversations (title, created_ms, updated_ms, model, reasoning_effort, system_prompt, "
               "temperature, top_p, top_k, min_p, max_tokens, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "creating a conversation");
  st.bind(1, c.title).bind(2, created).bind(3, created);
  bind_settings(st, 4, c.settings);
  st.run();
  return sqlite3_last_insert_rowid(db.handle());
}

std::optional<ConversationRecord> find_conversation(Database& db, RowId id) {
  Statement st(db, "SELECT " + detail::conversation_columns() + " FROM conversations WHERE id = ?",
               "reading a conversation");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return detail::read_conversation(st);
}

ConversationRecord get_conversation(Database& db, RowId id) {
  auto found = find_conversation(db, id);
  if (!found)
    throw StorageError(StorageErrorKind::NotFound, detail::where(db) + "there is no conversation " + std::to_string(id));
  return *found;
}

std::vector<ConversationSummary> list_conversations(Database& db) {
  Statement st(db,
               "SELECT " + detail::conversation_columns("c.") +
                   ", (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)"
                   ", EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.status = 'partial' "
                   "AND m.interrupted = 1)"
                   " FROM conversations c ORDER BY c.pinned DESC, c.updated_ms DESC, c.id DESC",
               "listing conversations");
  std::vector<ConversationSummary> out;
  while (st.step()) {
    ConversationSummary s;
    s.conversation = detail::read_conversation(st);
    s.message_count = st.int64(15);
    s.has_interrupted = st.int64(16) != 0;
    out.push_back(std::move(s));
  }
  return out;
}

void rename_conversation(Database& db, RowId id, std::string_view title) {
  Statement st(db, "UPDATE conversations SET title = ? WHERE id = ?", "renaming a conversation");
  st.bind(1, title).bind(2, id).run();
  expect_changed(db, id);
}

void set_conversation_pinned(Database& db, RowId id, bool pinned) {
  Statement st(db, "UPDATE conversations SET pinned = ? WHERE id = ?", "pinning a conversation");
  st.bind(1, pinned).bind(2, id).run();
  expect_changed(db, id);
}

void update_conversation_settings(Database& db, RowId id, const ConversationSettings& settings) {
  detail::validate_settings(db, settings);
  Statement st(db,
               "UPDATE conversations SET model = ?, reasoning_effort = ?, system_prompt = ?, temperature = ?, "
               "top_p = ?, top_k = ?, min_p = ?, max_tokens = ?, seed = ? WHERE id = ?",
               "changing a conversation's settings");
  bind_settings(st, 1, settings);
  st.bind(10, id).run();
  expect_changed(db, id);
}

void delete_conversation(Database& db, RowId id) {
  {
    Transaction tx(db, "deleting a conversation");
    detail::require_conversation(db, id);
    // Leaves first: letting the parent_id cascade do it would recurse once per
    // message of a thread and hit SQLite's trigger depth limit on long chats.
    Statement del(db, "DELETE FROM messages WHERE id = ?", "deleting a conversation's messages");
    for (RowId m : detail::subtree_deepest_first(db, id, std::nullopt)) {
      del.bind(1, m).run();
      del.reset();
    }
    Statement st(db, "DELETE FROM conversations WHERE id = ?", "deleting a conversation");
    st.bind(1, id).run();
    tx.commit();
  }
  // FTS5 keeps a deleted row's terms in old index segments until they are
  // merged; 'optimize' merges them now so secure_delete can zero those pages,
  // and the truncating checkpoint drops the old pages from the WAL.
  db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('optimize');"
          "INSERT INTO conversations_fts(conversations_fts) VALUES ('optimize')",
          "purging a deleted conversation from the search index");
  db.checkpoint_truncate();
}

std::string derive_title(std::string_view text, std::size_t max_chars) {
  // First non-empty line.
  std::string_view line;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) break;
    line = {};
  }
  std::string collapsed;
  for (char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\r';
    if (space) {
      if (!collapsed.empty() && collapsed.back() != ' ') collapsed += ' ';
    } else {
      collapsed += c;
    }
  }
  while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  if (detail::utf8_length(collapsed) <= max_chars) return collapsed;

  // Byte offset of the max_chars-th code point, then back to the last space if it is not too far.
  std::size_t chars = 0, cut = 0;
  for (; cut < collapsed.size(); ++cut) {
    if ((static_cast<unsigned char>(collapsed[cut]) & 0xC0) != 0x80) {
      if (chars == max_chars) break;
      ++chars;
    }
  }
  const std::size_t space = collapsed.rfind(' ', cut);
  if (space != std::string::npos && space > cut / 2) cut = space;
  std::string title = collapsed.substr(0, cut);
  while (!title.empty() && title.back() == ' ') title.pop_back();
  return title + "…";
}

}  // namespace ossdesk::storage
