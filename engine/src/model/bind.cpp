#include "model/bind.h"

#include "ossdesk/error.h"

namespace ossdesk {

void expect_tensor(const TensorView& t, std::initializer_list<DType> dtypes, const std::vector<std::uint64_t>& shape) {
  bool ok = false;
  std::string names;
  for (DType d : dtypes) {
    ok |= d == t.dtype;
    names += (names.empty() ? "" : " or ") + std::string(dtype_name(d));
  }
  if (!ok)
    fail(ErrorKind::Unsupported, t.file + ": tensor '" + t.name + "': type " + dtype_name(t.dtype) + ", expected " + names);
  if (t.shape != shape)
    fail_input(t.file + ": tensor '" + t.name + "': shape " + shape_to_string(t.shape) + ", expected " + shape_to_string(shape));
}

WeightFormat plain_format(DType dtype) {
  switch (dtype) {
    case DType::F32: return WeightFormat::F32;
    case DType::F16: return WeightFormat::F16;
    case DType::BF16: return WeightFormat::BF16;
    case DType::Q8_0: return WeightFormat::Q8_0;
    case DType::MXFP4: return WeightFormat::MXFP4_GGML;
    default: fail(ErrorKind::Unsupported, std::string("tensor type ") + dtype_name(dtype) + " cannot hold weights");
  }
}

VectorView bind_vector(const TensorView& t, std::uint64_t n) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16}, {n});
  VectorView v;
  v.format = plain_format(t.dtype);
  v.n = static_cast<std::int64_t>(n);
  v.data = t.data;
  v.stride = t.dtype == DType::F32 ? 4 : 2;
  return v;
}

MatrixView bind_matrix(const TensorView& t, std::uint64_t rows, std::uint64_t cols) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::MXFP4}, {rows, cols});
  MatrixView m;
  m.format = plain_format(t.dtype);
  m.rows = static_cast<std::int64_t>(rows);
  m.cols = static_cast<std::int64_t>(cols);
  m.data = t.data;
  m.row_stride = m.bytes_per_row();
  return m;
}

void bind_dense_layer(LayerWeights& l, const ModelConfig& c, const TensorLookup& get, const DenseLayerNames& n) {
  const auto H = static_cast<std::uint64_t>(c.hidden_size), E = static_cast<std::uint64_t>(c.num_experts),
             Q = static_cast<std::uint64_t>(c.q_dim()), KV = static_cast<std::uint64_t>(c.kv_dim());
  l.attn_norm = bind_vector(get(n.attn_norm), H);
  l.wq = bind_matrix(get(n.wq), Q, H);
  l.bq = bind_vector(get(n.bq), Q);
  l.wk = bind_matrix(get(n.wk), KV, H);
  l.bk = bind_vector(get(n.bk), KV);
  l.wv = bind_matrix(get(n.wv), KV, H);
  l.bv = bind_vector(get(n.bv), KV);
  l.wo = bind_matrix(get(n.wo), H, Q);
  l.bo = bind_vector(get(n.bo), H);
  l.sinks = bind_vector(get(n.sinks), static_cast<std::uint64_t>(c.num_heads));
  l.mlp_norm = bind_vector(get(n.mlp_norm), H);
  l.router = bind_matrix(get(n.router), E, H);
  l.router_bias = bind_vector(get(n.router_bias), E);
}

}  // namespace ossdesk
