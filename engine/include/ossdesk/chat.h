// A conversation as the caller describes it, before it is rendered to tokens.
//
// Mirrors the inputs of openai/harmony's render_conversation_for_completion:
// an optional system message (identity, dates, reasoning effort, channels), an
// optional developer message (instructions and function tools) and the turns.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ossdesk {

using TokenId = int;

enum class ReasoningEffort { Low, Medium, High };

const char* to_string(ReasoningEffort effort);                    // "low" | "medium" | "high"
std::optional<ReasoningEffort> parse_reasoning_effort(const std::string& text);

struct SystemSpec {
  ReasoningEffort reasoning = ReasoningEffort::Medium;
  std::string identity = "You are ChatGPT, a large language model trained by OpenAI.";
  std::optional<std::string> knowledge_cutoff = std::string("2024-06");
  std::optional<std::string> current_date;  // "YYYY-MM-DD"; absent: no "Current date:" line
  std::vector<std::string> channels = {"analysis", "commentary", "final"};
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters_json;  // a JSON Schema object as text; empty when the tool takes no arguments
};

struct DeveloperSpec {
  std::string instructions;
  std::vector<ToolSpec> tools;  // rendered in namespace `functions`
};

struct ChatMessage {
  std::string role;          // "user" | "assistant" | "tool" | "developer" | "system"
  std::string content;
  std::string channel;       // assistant: "analysis" | "commentary" | "final"; empty = none
  std::string recipient;     // e.g. "functions.get_weather"; empty = none
  std::string content_type;  // e.g. "<|constrain|>json"; empty = none
  std::string name;          // author name of a tool message, e.g. "functions.get_weather"
};

struct Conversation {
  std::optional<SystemSpec> system;
  std::optional<DeveloperSpec> developer;
  std::vector<ChatMessage> messages;
  bool drop_analysis = true;  // drop analysis of earlier turns that ended with a final message
};

}  // namespace ossdesk
