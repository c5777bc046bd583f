// storage_crash_writer: the storage side of `ossdesk-cli chat`, as its own
// process so tests can kill -9 it, run two at once, or run it as another user.
//
//   storage_crash_writer stream DB [SECONDS]
//       creates a conversation, commits a user message, starts an answer and
//       prints "ready CONVERSATION USER ANSWER"; then streams a deterministic
//       answer (expected_stream_text in crash_stream.h) one delta per
//       millisecond until killed, or finishes it after SECONDS.
//   storage_crash_writer insert DB CONVERSATION COUNT TAG
//       appends COUNT messages "TAG-i" to the conversation, one short
//       transaction each (the two-writers test runs two of these at once).
//   storage_crash_writer open DB [--drop-root]
//       opens DB and prints "ok VERSION" or "error KIND MESSAGE"; with
//       --drop-root a root caller first becomes nobody, so permission checks apply.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "crash_stream.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/error.h"
#include "ossdesk/storage/messages.h"
#include "ossdesk/storage/streaming.h"

using namespace ossdesk::storage;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: storage_crash_writer stream DB [SECONDS]\n"
               "       storage_crash_writer insert DB CONVERSATION COUNT TAG\n"
               "       storage_crash_writer open DB [--drop-root]\n");
  return 64;
}

int stream(const std::string& path, double seconds) {
  Database db = Database::open(path);
  const RowId conversation = create_conversation(db, {.title = "crash test", .settings = {}, .created_ms = {}});
  NewMessage question;
  question.content = crash_stream::kQuestion;
  const RowId user = append_message(db, conversation, question);
  StreamingAnswerWriter writer(db, conversation, user, {.model = "synth-tiny", .backend = "cpu"});
  std::printf("ready %lld %lld %lld\n", static_cast<long long>(conversation), static_cast<long long>(user),
              static_cast<long long>(writer.message_id()));
  std::fflush(stdout);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (int i = 0; seconds <= 0 || std::chrono::steady_clock::now() < end; ++i) {
    const crash_stream::Delta d = crash_stream::delta(i);
    if (d.reasoning) writer.append_reasoning(d.text); else writer.append_content(d.text);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  writer.finish(MessageStatus::Complete);
  return 0;
}

int insert(const std::string& path, RowId conversation, int count, const std::string& tag) {
  OpenOptions options;
  options.busy_timeout = std::chrono::milliseconds(20000);
  Database db = Database::open(path, options);
  for (int i = 0; i < count; ++i) {
    NewMessage m;
    m.content = tag + "-" + std::to_string(i);
    append_message(db, conversation, m);
  }
  return 0;
}

int open_only(const std::string& path, bool drop_root) {
#ifndef _WIN32
  if (drop_root && geteuid() == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      std::printf("error setuid cannot become nobody\n");
      return 3;
    }
  }
#else
  (void)drop_root;
#endif
  try {
    Database db = Database::open(path);
    std::printf("ok %d\n", db.schema_version());
    return 0;
  } catch (const StorageError& e) {
    std::printf("error %s %s\n", to_string(e.kind()), e.what());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  const std::string db = argv[2];
  try {
    if (mode == "stream") return stream(db, argc > 3 ? std::atof(argv[3]) : 0.0);
    if (mode == "insert" && argc == 6) return insert(db, std::atoll(argv[3]), std::atoi(argv[4]), argv[5]);
    if (mode == "open") return open_only(db, argc > 3 && std::string(argv[3]) == "--drop-root");
  } catch (const StorageError& e) {
    std::fprintf(stderr, "storage_crash_writer: %s\n", e.what());
    return 1;
  }
  return usage();
}
