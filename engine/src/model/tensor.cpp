#include "model/tensor.h"

namespace ossdesk {

std::string shape_to_string(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

bool checked_elements(const std::vector<std::uint64_t>& shape, std::uint64_t* out) {
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;
  std::uint64_t n = 1;
  for (auto d : shape) {
    if (d != 0 && n > kLimit / d) return false;
    n *= d;
  }
  *out = n;
  return true;
}

}  // namespace ossdesk
