// The weights of a gpt-oss model as every backend sees them: one canonical set
// of views (per layer: attention, router, experts) over the stored bytes, in
// the format they were stored in. Hugging Face and GGUF checkpoints differ in
// names, row interleaving and MXFP4 packing; those differences end here, in
// strides and a format tag, so no backend ever looks at tensor names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace ossdesk {

enum class WeightFormat : std::uint8_t {
  F32,
  F16,
  BF16,
  Q8_0,        // 34-byte blocks: f16 scale, 32 x int8
  MXFP4_HF,    // Hugging Face: 16 bytes per 32 values (low nibble = even element) + separate E8M0 scale rows
  MXFP4_GGML,  // GGUF: 17-byte blocks: E8M0 scale, 16 bytes (low nibbles = elements 0..15, high = 16..31)
};
const char* weight_format_name(WeightFormat f);

// A rows x cols matrix used as y = W x: row r holds the `cols` weights of output r.
struct MatrixView {
  WeightFormat format = WeightFormat::F32;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const std::uint8_t* data = nullptr;
  std::uint64_t row_stride = 0;             // bytes from one row to the next
  const std::uint8_t* scales = nullptr;     // MXFP4_HF only: E8M0 bytes, cols/32 per row
  std::uint64_t scale_row_stride = 0;

  const std::uint8_t* row(std::int64_t r) const { return data + static_cast<std::uint64_t>(r) * row_stride; }
  const std::uint8_t* row_scales(std::int64_t r) const { return scales + static_cast<std::uint64_t>(r) * scale_row_stride; }
  std::uint64_t bytes_per_row() const;  // weight bytes one row reads (incl. scales)
};

// A vector of n values (norm scales, biases, sinks); `stride` in bytes lets a
// view pick every other element of an interleaved tensor.
struct VectorView {
  WeightFormat format = WeightFormat::F32;  // F32, F16 or BF16
  std::int64_t n = 0;
  const std::uint8_t* data = nullptr;
  std::uint64_t stride = 4;
  float at(std::int64_t i) const;
};

// `count` matrices (one per expert) at a fixed distance from each other.
struct ExpertMatricesView {
  MatrixView first;
  int count = 0;
  std::uint64_t expert_stride = 0;        // bytes between experts' data
  std::uint64_t scale_expert_stride = 0;  // bytes between experts' scales (MXFP4_HF)
  MatrixView expert(int e) const {
    MatrixView m = first;
    m.data += static_cast<std::uint64_t>(e) * expert_stride;
    if (m.scales) m.scales += static_cast<std::uint64_t>(e) * scale_expert_stride;
    return m;
  }
};

struct ExpertVectorsView {
  VectorView first;
  std::uint64_t expert_stride = 0;
  VectorView expert(int e) const {
    VectorView v = first;
    v.data += static_cast<std::uint64_t>(e) * expert_stride;
    return v;
  }
};

struct LayerWeights {
  VectorView attn_norm;
  MatrixView wq, wk, wv, wo;
  VectorView bq, bk, bv, bo;
  VectorView sinks;  // one logit per query head
  VectorView mlp_norm;
  MatrixView router;
  VectorView router_bias;
  ExpertMatricesView gate, up, down;  // gate/up: [intermediate x hidden], down: [hidden x intermediate]
  ExpertVectorsView gate_bias, up_bias, down_bias;
};

struct ModelWeights {
  MatrixView embedding;  // [vocab x hidden]; row t is token t's embedding
  std::vector<LayerWeights> layers;
  VectorView final_norm;
  MatrixView unembedding;  // [vocab x hidden]

  // Bytes of weights one decoded token reads (active experts only): the
  // numerator of the memory-bandwidth limit.
  std::uint64_t bytes_read_per_token(const ModelConfig& config) const;
};

}  // namespace ossdesk
