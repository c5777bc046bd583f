// A fresh folder under the build's test-work dir for one test case.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ossdesk::test {

inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::path(OSSDESK_TEST_WORK_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<char> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& p, const void* data, std::size_t n) {
  std::ofstream out(p, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<char>& v) { write_bytes(p, v.data(), v.size()); }

}  // namespace ossdesk::test
