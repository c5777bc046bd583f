// A read-only memory mapping of a whole file (mmap on POSIX, MapViewOfFile on Windows).
// Model weights are used straight from the mapping, never copied, so the OS page
// cache holds one copy however many backends read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ossdesk {

class MappedFile {
 public:
  // Throws ossdesk::Error (Io) naming the path when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
#ifdef _WIN32
  void* file_handle_ = nullptr;
  void* mapping_handle_ = nullptr;
#endif
};

// Reads a whole (small) file into a string; throws ossdesk::Error (Io) naming the path.
std::string read_text_file(const std::string& path);
// The same for files that may be missing or unreadable as a matter of course
// (/sys, /proc, cgroup files): nullopt then.
std::optional<std::string> read_text_file_if_present(const std::string& path);

}  // namespace ossdesk
