// Header parsing rules (see header_parser.h), over raw bytes: the header may
// contain anything the model emitted, so nothing here assumes valid UTF-8
// (the stream parser sanitizes the fields afterwards).
#include "harmony/header_parser.h"

#include "harmony/special_tokens.h"

namespace ossdesk::harmony {
namespace {

// Rust's split_ascii_whitespace set, which harmony splits headers with.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) words.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

bool is_role(std::string_view w) {
  return w == "user" || w == "assistant" || w == "system" || w == "developer" || w == "tool";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Takes "<|channel|>NAME" out of the header: NAME runs to whitespace or the
// next '<' (the start of another marker). Returns the header without it.
std::string take_channel(std::string_view text, HeaderParse& out) {
  const std::size_t at = text.find(kChannel);
  if (at == std::string_view::npos) return std::string(text);
  const std::size_t from = at + kChannel.size();
  std::size_t end = from;
  while (end < text.size() && !is_space(text[end]) && text[end] != '<') ++end;
  out.header.channel = std::string(text.substr(from, end - from));
  if (out.header.channel.empty()) out.problems.push_back("<|channel|> without a channel name");
  return std::string(text.substr(0, at)) + std::string(text.substr(end));
}

void set_constraint(HarmonyHeader& h) {
  std::string_view ct = h.content_type;
  if (starts_with(ct, kConstrain)) ct.remove_prefix(kConstrain.size());
  h.constraint = std::string(ct);
}

std::string join(const std::vector<std::string>& words, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += (i > from ? " " : "") + words[i];
  return out;
}

}  // namespace

HeaderParse parse_header(std::string_view text, std::string_view known_role) {
  HeaderParse out;
  std::string rest(trim(take_channel(text, out)));

  // "to=x<|constrain|>json": make the content type its own word.
  if (rest.find(kConstrain) != std::string::npos) {
    std::string spaced;
    for (std::size_t i = 0; i < rest.size();) {
      if (rest.compare(i, kConstrain.size(), kConstrain) == 0) {
        spaced += " ";
        spaced += kConstrain;
        i += kConstrain.size();
      } else {
        spaced += rest[i++];
      }
    }
    rest = std::string(trim(spaced));
  }
  std::vector<std::string> words = split_words(rest);
  std::size_t first = 0, last = words.size();  // the words not yet consumed: [first, last)

  if (!known_role.empty()) {
    out.header.role = std::string(known_role);
  } else if (words.empty()) {
    out.problems.push_back("message header names no role; assuming assistant");
    out.header.role = "assistant";
  } else if (is_role(words[0])) {
    out.header.role = words[0];
    // Harmony names a tool message after the word it started with.
    if (out.header.role == "tool") out.header.name = words[0];
  } else {
    // Not a role: a tool's name, as in "<|start|>functions.get_weather to=assistant".
    if (words.size() == 1 && !starts_with(words[0], "to="))
      out.problems.push_back("unknown role \"" + words[0] + "\"; taken as a tool name");
    out.header.role = "tool";
    out.header.name = words[0];
    ++first;
  }
  if (first < last && words[first] == out.header.role) ++first;

  if (first < last) {
    const std::size_t count = last - first;
    const std::string& tail = words[--last];
    if (starts_with(tail, "to=")) {
      out.header.recipient = tail.substr(3);
    } else if (count == 1) {
      out.header.recipient = tail;  // a lone word is a recipient (harmony's rule)
    } else {
      out.header.content_type = tail;
      const std::string& r = words[--last];
      out.header.recipient = starts_with(r, "to=") ? r.substr(3) : r;
    }
  }
  if (first < last) {
    out.leftover = join(words, first, last);
    out.problems.push_back("unexpected text in message header: \"" + out.leftover + "\"");
  }
  set_constraint(out.header);
  return out;
}

HeaderParse parse_header_as_content(std::string_view text, std::string_view known_role) {
  HeaderParse out;
  const std::string without_channel = take_channel(text, out);
  std::string_view rest = without_channel;
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);

  std::size_t word_end = 0;
  while (word_end < rest.size() && !is_space(rest[word_end])) ++word_end;
  const std::string_view first_word = rest.substr(0, word_end);

  if (!known_role.empty()) {
    out.header.role = std::string(known_role);
    if (first_word == known_role) rest.remove_prefix(word_end);
  } else if (is_role(first_word)) {
    out.header.role = std::string(first_word);
    if (out.header.role == "tool") out.header.name = out.header.role;
    rest.remove_prefix(word_end);
  } else {
    out.problems.push_back("message names no role; assuming assistant");
    out.header.role = "assistant";
  }
  // Only leading space goes: when a long header is cut off mid-text, its
  // trailing space belongs to the content that follows.
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  out.leftover = std::string(rest);
  return out;
}

}  // namespace ossdesk::harmony
