// Text forms of the storage enums (the values stored in the CHECK-constrained columns).
#include "ossdesk/storage/types.h"

#include <chrono>

#include "ossdesk/storage/error.h"

namespace ossdesk::storage {

const char* to_string(Role role) {
  switch (role) {
    case Role::System: return "system";
    case Role::Developer: return "developer";
    case Role::User: return "user";
    case Role::Assistant: return "assistant";
    case Role::Tool: return "tool";
  }
  return "user";
}

const char* to_string(MessageStatus status) {
  switch (status) {
    case MessageStatus::Complete: return "complete";
    case MessageStatus::Partial: return "partial";
    case MessageStatus::Cancelled: return "cancelled";
    case MessageStatus::Error: return "error";
  }
  return "complete";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role r : {Role::System, Role::Developer, Role::User, Role::Assistant, Role::Tool})
    if (text == to_string(r)) return r;
  return std::nullopt;
}

std::optional<MessageStatus> parse_message_status(std::string_view text) {
  for (MessageStatus s :
       {MessageStatus::Complete, MessageStatus::Partial, MessageStatus::Cancelled, MessageStatus::Error})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

bool is_reasoning_effort(std::string_view text) { return text == "low" || text == "medium" || text == "high"; }

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const char* to_string(StorageErrorKind kind) {
  switch (kind) {
    case StorageErrorKind::Corrupt: return "corrupt";
    case StorageErrorKind::NotOurs: return "not-ours";
    case StorageErrorKind::TooNew: return "too-new";
    case StorageErrorKind::NeedsUpgrade: return "needs-upgrade";
    case StorageErrorKind::DiskFull: return "disk-full";
    case StorageErrorKind::ReadOnly: return "read-only";
    case StorageErrorKind::CannotOpen: return "cannot-open";
    case StorageErrorKind::Busy: return "busy";
    case StorageErrorKind::NotFound: return "not-found";
    case StorageErrorKind::InvalidArgument: return "invalid-argument";
    case StorageErrorKind::BadImport: return "bad-import";
    case StorageErrorKind::Io: return "io";
    case StorageErrorKind::Internal: return "internal";
  }
  return "internal";
}

}  // namespace ossdesk::storage
