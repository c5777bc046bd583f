#include "model/dtype.h"

#include <array>
#include <limits>

namespace ossdesk {
namespace {

constexpr std::array<DTypeTraits, 9> kTraits = {{
    {DType::F32, "F32", 1, 4},
    {DType::F16, "F16", 1, 2},
    {DType::BF16, "BF16", 1, 2},
    {DType::U8, "U8", 1, 1},
    {DType::I8, "I8", 1, 1},
    {DType::I32, "I32", 1, 4},
    {DType::F8_E4M3, "F8_E4M3", 1, 1},
    {DType::Q8_0, "Q8_0", 32, 34},
    {DType::MXFP4, "MXFP4", 32, 17},
}};

// GGML type numbers (ggml.h); only the names matter for the ones we do not read.
constexpr std::array<const char*, 40> kGgmlNames = {
    "F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0",    "Q5_1",    "Q8_0", "Q8_1",
    "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS",  "IQ3_XXS", "IQ1_S",
    "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32",  "I64",     "F64",  "IQ1_M",
    "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8",
    "IQ4_NL_8_8", "MXFP4"};

}  // namespace

const DTypeTraits& dtype_traits(DType type) { return kTraits[static_cast<std::size_t>(type)]; }

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  if (name == "F32") return DType::F32;
  if (name == "F16") return DType::F16;
  if (name == "BF16") return DType::BF16;
  if (name == "U8") return DType::U8;
  if (name == "I8") return DType::I8;
  if (name == "I32") return DType::I32;
  if (name == "F8_E4M3") return DType::F8_E4M3;
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml(std::uint32_t t) {
  switch (t) {
    case 0: return DType::F32;
    case 1: return DType::F16;
    case 8: return DType::Q8_0;
    case 24: return DType::I8;
    case 26: return DType::I32;
    case 30: return DType::BF16;
    case 39: return DType::MXFP4;
    default: return std::nullopt;
  }
}

std::optional<std::uint32_t> dtype_to_ggml(DType type) {
  switch (type) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q8_0: return 8;
    case DType::I8: return 24;
    case DType::I32: return 26;
    case DType::BF16: return 30;
    case DType::MXFP4: return 39;
    default: return std::nullopt;
  }
}

std::string ggml_type_name(std::uint32_t t) {
  if (t < kGgmlNames.size()) return kGgmlNames[t];
  return "type " + std::to_string(t);
}

std::optional<std::uint64_t> dtype_bytes(DType type, std::uint64_t elements) {
  const auto& tr = dtype_traits(type);
  if (elements % tr.block_elems != 0) return std::nullopt;
  const std::uint64_t blocks = elements / tr.block_elems;
  if (blocks > std::numeric_limits<std::uint64_t>::max() / tr.block_bytes) return std::nullopt;
  return blocks * tr.block_bytes;
}

}  // namespace ossdesk
