// Internal: the identity stored with a streaming answer (process id + boot id)
// and the check used at open to tell a live writer from a dead one.
//
// Why not a heartbeat: generation can legitimately pause for many seconds
// (long prefill), so "no update lately" does not mean "dead". The process id
// is exact for kill -9 and crashes; the boot id rules out a reused pid after a
// reboot. A false "dead" (e.g. two pid namespaces) is harmless: the live
// writer's next flush clears the interrupted flag again.
#include <fstream>

#include "internal.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <cerrno>
#include <csignal>
#include <unistd.h>
#endif

namespace ossdesk::storage::detail {
namespace {

std::string read_boot_id() {
#ifdef __linux__
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
#else
  return {};
#endif
}

bool process_exists(std::int64_t pid) {
#ifdef _WIN32
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (!h) return GetLastError() == ERROR_ACCESS_DENIED;  // exists, owned by someone else
  const bool running = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return running;
#else
  if (pid <= 0) return false;
  if (kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno == EPERM;  // exists, owned by another user
#endif
}

}  // namespace

const WriterIdentity& current_writer() {
  static const WriterIdentity identity = [] {
    WriterIdentity w;
#ifdef _WIN32
    w.pid = static_cast<std::int64_t>(GetCurrentProcessId());
#else
    w.pid = static_cast<std::int64_t>(getpid());
#endif
    w.boot_id = read_boot_id();
    return w;
  }();
  return identity;
}

bool writer_alive(std::optional<std::int64_t> pid, const std::string& boot_id) {
  if (!pid) return false;
  const WriterIdentity& me = current_writer();
  if (!boot_id.empty() && !me.boot_id.empty() && boot_id != me.boot_id) return false;
  if (*pid == me.pid) return true;  // this process: its writer objects clean up after themselves
  return process_exists(*pid);
}

}  // namespace ossdesk::storage::detail
