// Importing an export file of arbitrary bytes into a real SQLite history (in
// /dev/shm): the first byte picks the format (even: JSON, odd: Markdown).
// Checked besides the sanitizers, both promises of storage/export.h:
//  - imports are all-or-nothing: a refused file throws StorageError BadImport
//    and leaves the history as it was (empty);
//  - whatever an import accepts exports to JSON that imports into a second
//    history and exports again byte for byte.
#include <cstdint>

#include "fuzz_support.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/error.h"
#include "ossdesk/storage/export.h"

using namespace ossdesk;
using namespace ossdesk::storage;

namespace {

Database open_history(const char* name) {
  OpenOptions options;
  options.full_sync = false;  // a crash of this process loses nothing that matters
  options.check_integrity = false;
  return Database::open(fuzz::scratch_dir() / name, options);
}

// Empty between inputs.
struct Histories {
  Database first = open_history("first.db");
  Database second = open_history("second.db");
};

Histories& histories() {
  static Histories h;
  return h;
}

void empty(Database& db) {
  for (const auto& summary : list_conversations(db)) delete_conversation(db, summary.conversation.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Histories& h = histories();
  const std::string_view file = fuzz::as_text(data + 1, size - 1);
  try {
    if (data[0] % 2 == 0)
      import_json(h.first, file);
    else
      import_markdown(h.first, file);
  } catch (const StorageError& e) {
    if (e.kind() != StorageErrorKind::BadImport) fuzz::property_failed("an import was refused with an error other than BadImport");
    if (!list_conversations(h.first).empty()) fuzz::property_failed("a refused import left conversations behind");
    return 0;
  }
  const std::string exported = export_json(h.first);
  try {
    import_json(h.second, exported);
  } catch (const StorageError&) {
    fuzz::property_failed("our own export was refused on import");
  }
  if (export_json(h.second) != exported) fuzz::property_failed("export -> import -> export is not byte-identical");
  empty(h.first);
  empty(h.second);
  return 0;
}
