// Message headers in generated output: the text between <|start|> (or the
// prompt's "<|start|>assistant") and <|message|>, such as
// "<|channel|>commentary to=functions.get_weather <|constrain|>json".
//
// Follows openai/harmony's StreamableParser header rules: the channel is the
// word after <|channel|>; the rest splits on whitespace into role,
// recipient ("to=X", or a lone word) and content type (the last word when
// there are two). Where harmony gives up with an error, this reports a
// problem and keeps going, so generation never fails on a bad header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ossdesk::harmony {

struct HarmonyHeader {
  std::string role;          // "assistant" for everything the model says; "tool" for tool output
  std::string name;          // author name of a tool message, e.g. "functions.get_weather"
  std::string channel;       // "analysis" | "commentary" | "final" | "" (none given)
  std::string recipient;     // e.g. "functions.get_weather"; "" = none
  std::string content_type;  // as written, e.g. "<|constrain|>json" or "json"; "" = none
  std::string constraint;    // content_type without a leading <|constrain|>, e.g. "json"
};

struct HeaderParse {
  HarmonyHeader header;
  std::string leftover;               // text that was not header metadata (content, for recovery)
  std::vector<std::string> problems;  // what did not follow the format, for anomaly events
};

// A complete header (one that ended with <|message|>). `known_role` is the
// role already given before the header text ("assistant" for the first
// message after the prompt), empty when the header itself must name it.
// Header text that fits nowhere is reported in problems and returned in leftover.
HeaderParse parse_header(std::string_view text, std::string_view known_role);

// A header that never reached <|message|> (the model went straight to its
// text): only the role and the channel are taken, everything else is content
// and comes back in leftover. Like harmony's non-strict recovery, except that
// the content keeps its original spacing (only leading space is dropped).
HeaderParse parse_header_as_content(std::string_view text, std::string_view known_role);

}  // namespace ossdesk::harmony
