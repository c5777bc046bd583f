// Full-text search (FTS5) over conversation titles and message text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct SearchOptions {
  std::optional<RowId> conversation_id{};  // only this conversation
  std::size_t limit = 50;
  std::string highlight_open = "[";  // put around matched words in snippets
  std::string highlight_close = "]";
};

struct SearchHit {
  RowId conversation_id = 0;
  std::optional<RowId> message_id{};  // empty: the conversation's title matched
  std::string title{};                // the conversation's title
  std::string snippet{};              // matched text with highlights
  double rank = 0;                  // FTS5 bm25 rank, lower is better
};

// Every word of `query` must match (as a word prefix, case and accent
// insensitive). Title matches come first, then messages, each best first.
// User text never reaches FTS5's query syntax unquoted, so no input is a syntax error.
std::vector<SearchHit> search(Database& db, std::string_view query, const SearchOptions& options = {});

// The FTS5 MATCH expression search() uses: each word quoted, with a prefix star.
// Empty when the query has no words.
std::string fts_query_from_user_text(std::string_view query);

}  // namespace ossdesk::storage
