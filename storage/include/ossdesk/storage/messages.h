// Messages and branches.
//
// Messages form a tree per conversation through parent_id: editing and
// resending a user message, or regenerating an answer, adds a sibling instead
// of deleting what followed, so alternatives are kept. The conversation's
// current leaf selects which branch is shown; visible_thread() is the path
// from the root to it, siblings() gives the ‹ 1/2 › alternatives of a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct NewMessage {
  Role role = Role::User;
  std::string content{};
  std::string reasoning{};
  std::vector<ToolCall> tool_calls{};
  std::string tool_call_id{};
  std::string tool_name{};
  MessageStatus status = MessageStatus::Complete;
  std::string error{};
  MessageStats stats{};
  std::optional<std::int64_t> created_ms{};  // default: now
};

// Adds the message after the conversation's current leaf (the normal "send"),
// makes it the new leaf and bumps the conversation's activity time. Committed
// when it returns, so the user's words are on disk before generation starts.
RowId append_message(Database& db, RowId conversation_id, const NewMessage& message);
// Same, under an explicit parent (empty: a new root). Edit-and-resend passes
// the edited message's parent; the new message becomes a sibling of it.
RowId add_message(Database& db, RowId conversation_id, std::optional<RowId> parent_id, const NewMessage& message);

std::optional<MessageRecord> find_message(Database& db, RowId id);
MessageRecord get_message(Database& db, RowId id);  // throws StorageError NotFound

// Root to current leaf: what the chat view shows and what the engine is given.
std::vector<MessageRecord> visible_thread(Database& db, RowId conversation_id);
// Root to `leaf_id`.
std::vector<MessageRecord> thread_to(Database& db, RowId leaf_id);
// Every message of the conversation, oldest first (parents before children).
std::vector<MessageRecord> all_messages(Database& db, RowId conversation_id);

struct Siblings {
  std::vector<RowId> ids{};  // the alternatives, oldest first (including the message itself)
  std::size_t index = 0;   // the message's position in ids
};
Siblings siblings(Database& db, RowId message_id);

// Shows the branch through `message_id`: the current leaf becomes its most
// recent descendant (following the newest child at each step). Returns that leaf.
RowId select_branch(Database& db, RowId message_id);

// Deletes the message and everything below it. If the visible thread went
// through it, the view moves to the newest remaining branch under its parent.
void delete_message_subtree(Database& db, RowId message_id);

}  // namespace ossdesk::storage
