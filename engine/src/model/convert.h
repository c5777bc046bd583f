// `convert`: any loaded gpt-oss model (typically a Hugging Face folder) to one
// GGUF file in llama.cpp's gpt-oss layout. Experts stay MXFP4 (repacked from
// the Hugging Face nibble order to ggml blocks, bit-exact), dense weights keep
// their stored type (BF16 stays BF16, so the logits do not move), vectors and
// the router become F32 (exact from BF16).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace ossdesk {

class Model;

std::uint64_t convert_to_gguf(const Model& model, const std::string& out,
                              const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});

// One row of Hugging Face MXFP4 (16-byte code groups + a separate scale per
// block of 32) as ggml blocks (scale byte first; low nibbles = elements
// 0..15, high nibbles = 16..31). `out` holds cols/32 * 17 bytes.
void repack_mxfp4_row_hf_to_ggml(const std::uint8_t* codes, const std::uint8_t* scales, std::int64_t cols, std::uint8_t* out);

}  // namespace ossdesk
