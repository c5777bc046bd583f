// Tokenizer::from_tiktoken_file: o200k_base ranks from a .tiktoken file, one
// "<base64 token bytes> <decimal rank>" per line, plus the o200k_harmony specials.
//
// The special ids are fixed (199998..201087), so the file must hold exactly the
// 199998 o200k_base ranks 0..199997; anything else is reported, never guessed at.
#include <charconv>
#include <string_view>

#include "ossdesk/error.h"
#include "tokenizer/base64.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/harmony_specials.h"
#include "tokenizer/printable.h"
#include "util/mapped_file.h"

namespace ossdesk {
namespace {

constexpr std::size_t kRankCount = static_cast<std::size_t>(harmony_specials::kFirstId);

struct RankLine {
  std::string bytes;
  std::size_t rank;
};

RankLine parse_rank_line(std::string_view line, const std::string& where) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos)
    fail_input(where + ": expected \"<base64> <rank>\", found " + printable(line));
  const std::string_view encoded = line.substr(0, space);
  const std::string_view rank_text = line.substr(space + 1);

  std::optional<std::string> bytes = decode_base64(encoded);
  if (!bytes) fail_input(where + ": expected base64 token bytes, found " + printable(encoded));

  std::size_t rank = 0;
  const auto [end, error] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
  if (rank_text.empty() || error != std::errc() || end != rank_text.data() + rank_text.size())
    fail_input(where + ": expected a decimal rank after the token, found " + printable(rank_text));
  if (rank >= kRankCount)
    fail_input(where + ": rank " + std::string(rank_text) + " is out of range; o200k_base ranks are 0.." +
               std::to_string(kRankCount - 1));
  return {std::move(*bytes), rank};
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_tiktoken_file(const std::string& path) {
  const MappedFile file(path);
  const std::string_view content(reinterpret_cast<const char*>(file.data()), file.size());

  std::vector<std::string> token_bytes(static_cast<std::size_t>(harmony_specials::kVocabSize));
  std::vector<bool> have_rank(kRankCount, false);
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = path + ":" + std::to_string(line_number);
    if (line.empty()) fail_input(where + ": empty line; expected \"<base64> <rank>\"");

    RankLine parsed = parse_rank_line(line, where);
    if (have_rank[parsed.rank])
      fail_input(where + ": rank " + std::to_string(parsed.rank) + " appears a second time");
    have_rank[parsed.rank] = true;
    token_bytes[parsed.rank] = std::move(parsed.bytes);
  }
  if (line_number != kRankCount) {
    std::size_t first_missing = 0;
    while (first_missing < kRankCount && have_rank[first_missing]) ++first_missing;
    fail_input(path + ": " + std::to_string(line_number) + " ranks; expected the " + std::to_string(kRankCount) +
               " o200k_base ranks 0.." + std::to_string(kRankCount - 1) + " (first missing: " +
               std::to_string(first_missing) + ")");
  }

  const std::vector<std::string> special_texts = harmony_specials::texts();
  std::vector<bool> is_special(token_bytes.size(), false);
  for (std::size_t i = 0; i < special_texts.size(); ++i) {
    token_bytes[kRankCount + i] = special_texts[i];
    is_special[kRankCount + i] = true;
  }
  auto aliases = harmony_specials::aliases_for(token_bytes, is_special);
  return std::make_unique<BpeTokenizer>(std::move(token_bytes), std::move(is_special), aliases, path);
}

}  // namespace ossdesk
