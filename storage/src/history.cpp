// `ossdesk-cli history --json` output (see history.h).
#include "ossdesk/storage/history.h"

#include "export_format.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/search.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage {
using detail::Json;

namespace {

Json summary_json(const ConversationSummary& s) {
  const ConversationRecord& c = s.conversation;
  return Json{{"id", c.id},
              {"title", detail::text_to_json(c.title)},
              {"created_ms", c.created_ms},
              {"updated_ms", c.updated_ms},
              {"pinned", c.pinned},
              {"model", detail::text_to_json(c.settings.model)},
              {"reasoning_effort", c.settings.reasoning_effort},
              {"message_count", s.message_count},
              {"has_interrupted", s.has_interrupted}};
}

Json conversation_json(Database& db, RowId id) {
  const ConversationRecord c = get_conversation(db, id);
  Json j{{"id", c.id}};
  j.update(detail::conversation_to_json(c));
  j["current_leaf_id"] = c.current_leaf_id ? Json(*c.current_leaf_id) : Json(nullptr);
  Json thread = Json::array();
  for (const MessageRecord& m : visible_thread(db, id)) thread.push_back(m.id);
  j["thread"] = std::move(thread);
  Json messages = Json::array();
  for (const MessageRecord& m : all_messages(db, id)) {
    Json mj{{"id", m.id}, {"parent_id", m.parent_id ? Json(*m.parent_id) : Json(nullptr)}};
    mj.update(detail::message_to_json(m, true));
    messages.push_back(std::move(mj));
  }
  j["messages"] = std::move(messages);
  return j;
}

}  // namespace

std::string history_json(Database& db, const HistoryQuery& query) {
  Json doc{{"format", "ossdesk-history"}, {"version", 1}};
  detail::Transaction tx(db, "reading the history", detail::Transaction::Mode::Read);
  if (query.search) {
    SearchOptions options;
    options.conversation_id = query.conversation_id;
    options.limit = query.search_limit;
    if (query.conversation_id) get_conversation(db, *query.conversation_id);  // NotFound for a bad id
    Json hits = Json::array();
    for (const SearchHit& h : search(db, *query.search, options))
      hits.push_back({{"conversation_id", h.conversation_id},
                      {"message_id", h.message_id ? Json(*h.message_id) : Json(nullptr)},
                      {"title", detail::text_to_json(h.title)},
                      {"snippet", detail::text_to_json(h.snippet)}});
    doc["query"] = *query.search;
    doc["hits"] = std::move(hits);
  } else if (query.conversation_id) {
    doc["conversation"] = conversation_json(db, *query.conversation_id);
  } else {
    Json list = Json::array();
    for (const ConversationSummary& s : list_conversations(db)) list.push_back(summary_json(s));
    doc["conversations"] = std::move(list);
  }
  tx.commit();
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace ossdesk::storage
