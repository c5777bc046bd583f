// Checks a stored tensor against what the model needs (dtype, shape) and turns
// it into a weight view. Shared by the Hugging Face and GGUF binders so both
// report a mismatch the same way: file, tensor, expected vs found.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "model/tensor.h"
#include "model/weights.h"

namespace ossdesk {

void expect_tensor(const TensorView& t, std::initializer_list<DType> dtypes, const std::vector<std::uint64_t>& shape);
VectorView bind_vector(const TensorView& t, std::uint64_t n);                      // F32 / F16 / BF16
MatrixView bind_matrix(const TensorView& t, std::uint64_t rows, std::uint64_t cols);  // F32 / F16 / BF16 / Q8_0 / MXFP4 (GGUF)
WeightFormat plain_format(DType dtype);  // F32 / F16 / BF16 / Q8_0 -> format; throws for others

// The names of one layer's attention, norm and router tensors in a layout
// (experts differ too much between layouts to share).
struct DenseLayerNames {
  std::string attn_norm, wq, bq, wk, bk, wv, bv, wo, bo, sinks, mlp_norm, router, router_bias;
};
using TensorLookup = std::function<const TensorView&(const std::string& name)>;  // throws when missing
void bind_dense_layer(LayerWeights& layer, const ModelConfig& config, const TensorLookup& get, const DenseLayerNames& names);

}  // namespace ossdesk
