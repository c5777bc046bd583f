// Plain records the storage library reads and writes, and the small enums in them.
//
// These mirror the tables (see migrations.cpp for the schema). They carry no
// behaviour and no database handle, so the app can copy them into Qt models
// and the CLI into JSON without holding a connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ossdesk::storage {

using RowId = std::int64_t;

enum class Role { System, Developer, User, Assistant, Tool };
enum class MessageStatus { Complete, Partial, Cancelled, Error };

const char* to_string(Role role);                      // "system" | "developer" | "user" | "assistant" | "tool"
const char* to_string(MessageStatus status);           // "complete" | "partial" | "cancelled" | "error"
std::optional<Role> parse_role(std::string_view text);
std::optional<MessageStatus> parse_message_status(std::string_view text);
// Reasoning effort is kept as text ("low" | "medium" | "high") so storage does not depend on the engine.
bool is_reasoning_effort(std::string_view text);

// Milliseconds since the Unix epoch (UTC), the unit of every *_ms time column.
std::int64_t now_ms();

// Per-conversation sampling overrides; an empty optional means "use the app default".
struct SamplingSettings {
  std::optional<double> temperature{};
  std::optional<double> top_p{};
  std::optional<std::int64_t> top_k{};
  std::optional<double> min_p{};
  std::optional<std::int64_t> max_tokens{};
  std::optional<std::int64_t> seed{};
  bool operator==(const SamplingSettings&) const = default;
};

// What a conversation asks of the engine; changeable at any time.
struct ConversationSettings {
  std::string model{};                       // model path or name; empty = app default
  std::string reasoning_effort = "medium";
  std::string system_prompt{};
  SamplingSettings sampling{};
  bool operator==(const ConversationSettings&) const = default;
};

struct ConversationRecord {
  RowId id = 0;
  std::string title{};
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;  // last message activity (sidebar order)
  bool pinned = false;
  ConversationSettings settings{};
  std::optional<RowId> current_leaf_id{};  // last message of the visible thread; empty when no messages
  bool operator==(const ConversationRecord&) const = default;
};

// One function call an assistant message made (harmony: commentary channel, recipient functions.NAME).
struct ToolCall {
  std::string id{};         // caller-chosen id that the tool result message refers to
  std::string name{};       // e.g. "functions.get_weather"
  std::string arguments{};  // JSON text as the model wrote it
  bool operator==(const ToolCall&) const = default;
};

// How an answer was produced; empty strings and optionals mean "not recorded".
struct MessageStats {
  std::string model{};
  std::string backend{};           // "cpu" | "vulkan" | "cuda"
  std::string device{};            // e.g. "NVIDIA H100 80GB HBM3"
  std::string reasoning_effort{};  // "" or "low" | "medium" | "high"
  std::optional<std::int64_t> prompt_tokens{};
  std::optional<std::int64_t> generated_tokens{};
  std::optional<double> ttft_ms{};
  std::optional<double> decode_tokens_per_s{};
  std::optional<double> thinking_ms{};  // time spent on the analysis channel
  bool operator==(const MessageStats&) const = default;
};

struct MessageRecord {
  RowId id = 0;
  RowId conversation_id = 0;
  std::optional<RowId> parent_id{};  // empty for the first message of a thread
  Role role = Role::User;
  std::string content{};  // final text (harmony final channel)
  std::string reasoning{};  // analysis channel, kept apart so the UI can fold it
  std::vector<ToolCall> tool_calls{};
  std::string tool_call_id{};  // role Tool: the ToolCall::id this result answers
  std::string tool_name{};     // role Tool: the tool that produced it
  MessageStatus status = MessageStatus::Complete;
  // A Partial answer whose writer died (crash, kill, power loss); the UI shows it as interrupted.
  bool interrupted = false;
  std::string error{};  // status Error: what went wrong
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  MessageStats stats{};
  bool operator==(const MessageRecord&) const = default;
};

}  // namespace ossdesk::storage
