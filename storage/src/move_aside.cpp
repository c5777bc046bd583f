// Internal: moving a damaged history out of the way without ever overwriting it.
//
// The file and its companions are renamed to FILE.corrupt-YYYYMMDD-HHMMSS
// (UTC, plus -N when that name is taken), keeping SQLite's suffixes so the
// moved copy can be opened with its WAL for recovery. If any companion cannot
// be moved we stop: creating a new file next to an old -wal would let SQLite
// replay the old frames into it.
#include <ctime>
#include <system_error>

#include "internal.h"
#include "text_util.h"
#include "ossdesk/storage/error.h"

namespace ossdesk::storage::detail {
namespace fs = std::filesystem;

namespace {
std::string utc_stamp() { return format_utc(std::time(nullptr), "%Y%m%d-%H%M%S"); }

fs::path with_suffix(const fs::path& p, const std::string& suffix) { return fs::path(p.string() + suffix); }
}  // namespace

fs::path move_aside(const fs::path& path) {
  const std::string base = path.string() + ".corrupt-" + utc_stamp();
  fs::path target(base);
  for (int n = 2; fs::exists(target) || fs::exists(with_suffix(target, "-wal")); ++n)
    target = fs::path(base + "-" + std::to_string(n));

  std::error_code ec;
  fs::rename(path, target, ec);
  if (ec)
    throw StorageError(StorageErrorKind::Io, path.string() + ": the history is damaged and could not be moved aside to " +
                                                 target.string() + " (" + ec.message() +
                                                 "); it was left untouched and no new history was created");
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const fs::path from = with_suffix(path, suffix);
    if (!fs::exists(from)) continue;
    fs::rename(from, with_suffix(target, suffix), ec);
    if (ec)
      throw StorageError(StorageErrorKind::Io, path.string() + ": the damaged history was moved to " +
                                                   target.string() + " but " + from.string() +
                                                   " could not be moved with it (" + ec.message() +
                                                   "); no new history was created");
  }
  return target;
}

}  // namespace ossdesk::storage::detail
