// Full-text search over the FTS5 tables created by schema step 2 (see search.h).
#include "ossdesk/storage/search.h"

#include "internal.h"
#include "ossdesk/storage/database.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
using detail::Statement;

std::string fts_query_from_user_text(std::string_view query) {
  std::string out;
  std::size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && (query[i] == ' ' || query[i] == '\t' || query[i] == '\n' || query[i] == '\r')) ++i;
    std::size_t end = i;
    while (end < query.size() && query[end] != ' ' && query[end] != '\t' && query[end] != '\n' && query[end] != '\r')
      ++end;
    if (end == i) break;
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : query.substr(i, end - i)) {
      if (c == '"') out += '"';  // FTS5 escapes a quote inside a string by doubling it
      out += c;
    }
    out += "\"*";
    i = end;
  }
  return out;
}

std::vector<SearchHit> search(Database& db, std::string_view query, const SearchOptions& options) {
  std::vector<SearchHit> hits;
  const std::string match = fts_query_from_user_text(query);
  if (match.empty() || options.limit == 0) return hits;
  const auto limit = static_cast<std::int64_t>(options.limit);

  Statement titles(db,
                   "SELECT c.id, c.title, highlight(conversations_fts, 0, ?2, ?3), conversations_fts.rank"
                   " FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid"
                   " WHERE conversations_fts MATCH ?1 AND (?4 IS NULL OR c.id = ?4)"
                   " ORDER BY conversations_fts.rank LIMIT ?5",
                   "searching titles");
  titles.bind(1, match).bind(2, options.highlight_open).bind(3, options.highlight_close);
  titles.bind(4, options.conversation_id).bind(5, limit);
  while (titles.step())
    hits.push_back(SearchHit{titles.int64(0), std::nullopt, titles.text(1), titles.text(2), titles.real(3)});

  Statement messages(db,
                     "SELECT m.conversation_id, m.id, c.title,"
                     " snippet(messages_fts, 0, ?2, ?3, '…', 12), messages_fts.rank"
                     " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                     " JOIN conversations c ON c.id = m.conversation_id"
                     " WHERE messages_fts MATCH ?1 AND (?4 IS NULL OR m.conversation_id = ?4)"
                     " ORDER BY messages_fts.rank LIMIT ?5",
                     "searching messages");
  messages.bind(1, match).bind(2, options.highlight_open).bind(3, options.highlight_close);
  messages.bind(4, options.conversation_id).bind(5, limit - static_cast<std::int64_t>(hits.size()));
  while (messages.step())
    hits.push_back(SearchHit{messages.int64(0), messages.int64(1), messages.text(2), messages.text(3), messages.real(4)});
  return hits;
}

}  // namespace ossdesk::storage
