// ReasoningEffort <-> the words harmony writes after "Reasoning: " in the
// system message (declared in ossdesk/chat.h).
#include "ossdesk/chat.h"

namespace ossdesk {

const char* to_string(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::Low:
      return "low";
    case ReasoningEffort::Medium:
      return "medium";
    case ReasoningEffort::High:
      return "high";
  }
  return "medium";  // unreachable for valid enum values; keeps -Wreturn-type quiet
}

std::optional<ReasoningEffort> parse_reasoning_effort(const std::string& text) {
  // Exact, lower-case words only: these strings come from settings files and
  // the CLI, where accepting "Hi" or "HIGH" silently would hide typos.
  if (text == "low") return ReasoningEffort::Low;
  if (text == "medium") return ReasoningEffort::Medium;
  if (text == "high") return ReasoningEffort::High;
  return std::nullopt;
}

}  // namespace ossdesk
