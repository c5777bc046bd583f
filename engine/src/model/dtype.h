// Element types of stored tensors, across safetensors and GGUF.
//
// Block-quantized types (Q8_0, MXFP4 in GGUF) describe a whole block of
// elements per `block_bytes`; the rest are one element per `block_bytes`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ossdesk {

enum class DType : std::uint8_t {
  F32,
  F16,
  BF16,
  U8,
  I8,
  I32,
  F8_E4M3,
  Q8_0,   // GGUF type 8: f16 scale + 32 int8
  MXFP4,  // GGUF type 39: E8M0 scale byte + 16 bytes of 32 FP4 (low nibbles 0..15, high 16..31)
};

struct DTypeTraits {
  DType type;
  const char* name;         // as printed by `info` ("BF16", "MXFP4", ...)
  std::uint32_t block_elems;  // elements per block (1 for plain types)
  std::uint32_t block_bytes;  // bytes per block
};

const DTypeTraits& dtype_traits(DType type);
inline const char* dtype_name(DType type) { return dtype_traits(type).name; }

// safetensors dtype strings ("BF16", "F8_E4M3", ...); nullopt when unknown.
std::optional<DType> dtype_from_safetensors(std::string_view name);
// GGML type numbers; nullopt for types this engine does not read.
std::optional<DType> dtype_from_ggml(std::uint32_t ggml_type);
std::optional<std::uint32_t> dtype_to_ggml(DType type);
// The GGML name of a type number, also for ones we do not read ("Q4_K"), for error messages.
std::string ggml_type_name(std::uint32_t ggml_type);

// Bytes that `elements` of `type` take, or nullopt on overflow or when `elements`
// is not a whole number of blocks.
std::optional<std::uint64_t> dtype_bytes(DType type, std::uint64_t elements);

}  // namespace ossdesk
