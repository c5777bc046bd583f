// Lossless JSON export and import (see export.h).
//
// Shape: {"format": "ossdesk-export", "version": 1, "conversations": [
//   {title, created_ms, updated_ms, pinned, settings, current_leaf,
//    messages: [{id, parent, role, content, reasoning, ...}, ...]}, ...]}
// where id/parent/current_leaf are the message's 1-based position in its
// conversation's list (oldest first, so parents always come first).
#include <map>

#include "export_format.h"
#include "internal.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/export.h"
#include "ossdesk/storage/messages.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
using detail::Json;

namespace {

std::vector<RowId> conversation_ids(Database& db, std::optional<RowId> one) {
  if (one) {
    detail::require_conversation(db, *one);
    return {*one};
  }
  detail::Statement st(db, "SELECT id FROM conversations ORDER BY id", "listing conversations");
  std::vector<RowId> ids;
  while (st.step()) ids.push_back(st.int64(0));
  return ids;
}

Json export_one(Database& db, RowId id) {
  const ConversationRecord c = get_conversation(db, id);
  Json j = detail::conversation_to_json(c);
  std::map<RowId, std::int64_t> local;  // database id -> position
  Json messages = Json::array();
  for (const MessageRecord& m : all_messages(db, id)) {
    const auto position = static_cast<std::int64_t>(local.size() + 1);
    local[m.id] = position;
    Json mj{{"id", position}, {"parent", m.parent_id ? Json(local.at(*m.parent_id)) : Json(nullptr)}};
    mj.update(detail::message_to_json(m, true));
    messages.push_back(std::move(mj));
  }
  j["current_leaf"] = c.current_leaf_id ? Json(local.at(*c.current_leaf_id)) : Json(nullptr);
  j["messages"] = std::move(messages);
  return j;
}

RowId import_one(Database& db, const Json& j, const std::string& where) {
  const ConversationRecord c = detail::conversation_from_json(j, where);
  const RowId id = detail::insert_imported_conversation(db, c);
  std::map<std::int64_t, RowId> ids;  // position in the file -> new database id
  if (j.contains("messages")) {
    const Json& messages = j.at("messages");
    if (!messages.is_array()) detail::bad_import(where + ".messages", "expected an array");
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const std::string at = where + ".messages[" + std::to_string(i) + "]";
      const Json& mj = messages[i];
      const MessageRecord m = detail::message_from_json(mj, at, true);
      if (!mj.contains("id") || !mj.at("id").is_number_integer()) detail::bad_import(at + ".id", "expected an integer");
      const auto local = mj.at("id").get<std::int64_t>();
      if (ids.count(local)) detail::bad_import(at + ".id", "id " + std::to_string(local) + " is used twice");
      std::optional<RowId> parent;
      if (mj.contains("parent") && !mj.at("parent").is_null()) {
        const Json& p = mj.at("parent");
        if (!p.is_number_integer() || !ids.count(p.get<std::int64_t>()))
          detail::bad_import(at + ".parent", "must be the id of an earlier message of this conversation");
        parent = ids.at(p.get<std::int64_t>());
      }
      ids[local] = detail::insert_imported_message(db, id, parent, m);
    }
  }
  std::optional<RowId> leaf;
  if (j.contains("current_leaf") && !j.at("current_leaf").is_null()) {
    const Json& l = j.at("current_leaf");
    if (!l.is_number_integer() || !ids.count(l.get<std::int64_t>()))
      detail::bad_import(where + ".current_leaf", "must be the id of a message of this conversation");
    leaf = ids.at(l.get<std::int64_t>());
  }
  detail::set_imported_leaf(db, id, leaf);
  return id;
}

}  // namespace

std::string export_json(Database& db, std::optional<RowId> conversation_id) {
  Json conversations = Json::array();
  {
    // One read transaction: a consistent snapshot even while another process writes.
    detail::Transaction tx(db, "exporting conversations", detail::Transaction::Mode::Read);
    for (RowId id : conversation_ids(db, conversation_id)) conversations.push_back(export_one(db, id));
    tx.commit();
  }
  const Json doc{{"format", detail::kExportFormat}, {"version", detail::kExportVersion}, {"conversations", conversations}};
  return doc.dump(2) + "\n";
}

std::vector<RowId> import_json(Database& db, std::string_view text) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const std::exception& e) {
    throw StorageError(StorageErrorKind::BadImport,
                       detail::where(db) + "the import file is not valid JSON (" + e.what() + "); nothing was imported");
  }
  std::vector<RowId> ids;
  try {
    if (!doc.is_object() || doc.value("format", "") != detail::kExportFormat)
      detail::bad_import("format", std::string("this is not an ossdesk export (expected \"format\": \"") +
                                       detail::kExportFormat + "\")");
    if (!doc.contains("version") || !doc.at("version").is_number_integer() ||
        doc.at("version").get<int>() > detail::kExportVersion)
      detail::bad_import("version", "written by a newer ossdesk or missing (this build reads version " +
                                        std::to_string(detail::kExportVersion) + ")");
    if (!doc.contains("conversations") || !doc.at("conversations").is_array())
      detail::bad_import("conversations", "expected an array");
    detail::Transaction tx(db, "importing conversations");
    const Json& list = doc.at("conversations");
    for (std::size_t i = 0; i < list.size(); ++i)
      ids.push_back(import_one(db, list[i], "conversations[" + std::to_string(i) + "]"));
    tx.commit();
  } catch (const StorageError& e) {
    if (e.kind() != StorageErrorKind::BadImport) throw;
    throw StorageError(StorageErrorKind::BadImport,
                       detail::where(db) + "import failed at " + e.what() + "; nothing was imported");
  }
  return ids;
}

}  // namespace ossdesk::storage
