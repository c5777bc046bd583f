#include "util/system_memory.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace ossdesk {

std::optional<std::uint64_t> available_memory_bytes() {
#ifdef _WIN32
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof(status);
  if (!GlobalMemoryStatusEx(&status)) return std::nullopt;
  return static_cast<std::uint64_t>(status.ullAvailPhys);
#else
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    std::uint64_t kib = 0;
    if (key == "MemAvailable:" && (meminfo >> kib)) return kib * 1024;
    meminfo.ignore(1 << 12, '\n');
  }
  return std::nullopt;
#endif
}

std::optional<std::uint64_t> resident_bytes(std::span<const std::uint8_t> range) {
#ifdef _WIN32
  (void)range;
  return std::nullopt;  // the standby list is not visible per range
#else
  if (range.empty()) return 0;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGE_SIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(range.data());
  const auto end = begin + range.size();
  const std::uintptr_t first = begin & ~(page - 1);
  const std::size_t pages = static_cast<std::size_t>((end - first + page - 1) / page);
  std::uint64_t resident = 0;
  // In slices, so a 12 GB model needs a 64 KiB vector, not 3 MB.
  constexpr std::size_t kSlicePages = 1 << 16;
  std::vector<unsigned char> flags(std::min(pages, kSlicePages));
  for (std::size_t p0 = 0; p0 < pages; p0 += kSlicePages) {
    const std::size_t n = std::min(kSlicePages, pages - p0);
    const std::uintptr_t slice = first + p0 * page;
    if (::mincore(reinterpret_cast<void*>(slice), n * page, flags.data()) != 0) return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(flags[i] & 1)) continue;
      const std::uintptr_t lo = std::max(slice + i * page, begin), hi = std::min(slice + (i + 1) * page, end);
      resident += hi - lo;
    }
  }
  return resident;
#endif
}

}  // namespace ossdesk
