// A view of one stored tensor: where its bytes are and what they mean.
// Views point into memory-mapped files owned by the reader that produced them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/dtype.h"

namespace ossdesk {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::uint64_t> shape;  // outermost first (torch / safetensors order)
  const std::uint8_t* data = nullptr;
  std::uint64_t nbytes = 0;
  std::string file;  // the file it lives in, for error messages

  std::uint64_t elements() const {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

std::string shape_to_string(const std::vector<std::uint64_t>& shape);  // "[2880, 4096]"

// Product of dims, or nullopt-like failure: returns false on overflow past 2^62.
bool checked_elements(const std::vector<std::uint64_t>& shape, std::uint64_t* out);

}  // namespace ossdesk
