#include "backends/cuda/cuda_weights.h"

#include <cstring>

#include "backends/cuda/cuda_check.h"

namespace ossdesk::cuda {
namespace {

int dense_format(WeightFormat f, const char* what) {
  switch (f) {
    case WeightFormat::F32: return kDenseF32;
    case WeightFormat::F16: return kDenseF16;
    case WeightFormat::BF16: return kDenseBF16;
    case WeightFormat::Q8_0: return kDenseQ8;
    default:
      fail(ErrorKind::Unsupported, std::string("cuda: ") + what + " is stored as " + weight_format_name(f) +
                                       "; the CUDA kernels read dense matrices as F32, F16, BF16 or Q8_0");
  }
}

// Bytes of one device row of a dense matrix, rounded to 16 for aligned loads.
std::uint64_t dense_row_bytes(const MatrixView& m) {
  std::uint64_t raw = 0;
  switch (m.format) {
    case WeightFormat::F32: raw = static_cast<std::uint64_t>(m.cols) * 4; break;
    case WeightFormat::F16:
    case WeightFormat::BF16: raw = static_cast<std::uint64_t>(m.cols) * 2; break;
    default: raw = static_cast<std::uint64_t>(m.cols) + static_cast<std::uint64_t>(m.cols) / 32 * 2; break;  // codes, scales
  }
  return (raw + 15) / 16 * 16;
}

bool is_mxfp4(WeightFormat f) { return f == WeightFormat::MXFP4_GGML || f == WeightFormat::MXFP4_HF; }

// One MXFP4 row into nibble pairs (byte j: element 2j low, 2j+1 high) and scale bytes.
void mxfp4_row(const MatrixView& m, std::int64_t r, std::uint8_t* nibbles, std::uint8_t* scales) {
  const std::int64_t blocks = m.cols / 32;
  const std::uint8_t* src = m.row(r);
  if (m.format == WeightFormat::MXFP4_HF) {
    std::memcpy(nibbles, src, static_cast<std::size_t>(blocks) * 16);
    std::memcpy(scales, m.row_scales(r), static_cast<std::size_t>(blocks));
    return;
  }
  for (std::int64_t b = 0; b < blocks; ++b) {  // ggml: byte i holds element i (low) and i + 16 (high)
    const std::uint8_t* q = src + b * 17 + 1;
    scales[b] = src[b * 17];
    auto nibble = [q](int e) { return e < 16 ? q[e] & 15 : q[e - 16] >> 4; };
    for (int j = 0; j < 16; ++j) nibbles[b * 16 + j] = static_cast<std::uint8_t>(nibble(2 * j) | (nibble(2 * j + 1) << 4));
  }
}

class Uploader {
 public:
  Uploader(DeviceArena& arena, const LoadControl& control, std::uint64_t total)
      : arena_(arena), control_(control), total_(std::max<std::uint64_t>(total, 1)) {}

  void* put(const void* host, std::uint64_t bytes, const char* what) {
    if (control_.cancel && control_.cancel->load()) fail(ErrorKind::Cancelled, "cuda: loading was cancelled");
    void* dst = arena_.allocate(bytes, what);
    check(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice), what);
    done_ += bytes;
    if (control_.progress) control_.progress(static_cast<double>(done_) / static_cast<double>(total_), "uploading weights");
    return dst;
  }

  const float* vector(const VectorView& v, const char* what) {
    std::vector<float> host(static_cast<std::size_t>(v.n));
    for (std::int64_t i = 0; i < v.n; ++i) host[static_cast<std::size_t>(i)] = v.at(i);
    return static_cast<const float*>(put(host.data(), host.size() * 4, what));
  }

  const float* expert_vectors(const ExpertVectorsView& v, int experts, const char* what) {
    std::vector<float> host;
    host.reserve(static_cast<std::size_t>(experts) * static_cast<std::size_t>(v.first.n));
    for (int e = 0; e < experts; ++e) {
      const VectorView one = v.expert(e);
      for (std::int64_t i = 0; i < one.n; ++i) host.push_back(one.at(i));
    }
    return static_cast<const float*>(put(host.data(), host.size() * 4, what));
  }

  DenseMatrix dense(const MatrixView& m, const char* what) {
    DenseMatrix d;
    d.format = dense_format(m.format, what);
    d.rows = static_cast<int>(m.rows);
    d.cols = static_cast<int>(m.cols);
    const std::vector<std::uint8_t> host = dense_device_rows(m, &d.row_stride);
    d.data = static_cast<const std::uint8_t*>(put(host.data(), host.size(), what));
    return d;
  }

  ExpertMatrices experts(const ExpertMatricesView& v, const char* what) {
    if (!is_mxfp4(v.first.format))
      fail(ErrorKind::Unsupported, std::string("cuda: ") + what + " is stored as " + weight_format_name(v.first.format) +
                                       "; the CUDA expert kernels read MXFP4");
    ExpertMatrices x;
    x.rows = static_cast<int>(v.first.rows);
    x.cols = static_cast<int>(v.first.cols);
    const std::size_t rows = static_cast<std::size_t>(v.count) * static_cast<std::size_t>(x.rows);
    std::vector<std::uint8_t> nibbles(rows * static_cast<std::size_t>(x.cols / 2));
    std::vector<std::uint8_t> scales(rows * static_cast<std::size_t>(x.cols / 32));
    for (int e = 0; e < v.count; ++e) {
      const MatrixView m = v.expert(e);
      for (std::int64_t r = 0; r < m.rows; ++r) {
        const std::size_t row = static_cast<std::size_t>(e) * static_cast<std::size_t>(x.rows) + static_cast<std::size_t>(r);
        mxfp4_row(m, r, nibbles.data() + row * static_cast<std::size_t>(x.cols / 2),
                  scales.data() + row * static_cast<std::size_t>(x.cols / 32));
      }
    }
    x.nibbles = static_cast<const std::uint8_t*>(put(nibbles.data(), nibbles.size(), what));
    x.scales = static_cast<const std::uint8_t*>(put(scales.data(), scales.size(), what));
    return x;
  }

 private:
  DeviceArena& arena_;
  const LoadControl& control_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
};

std::uint64_t expert_bytes(const ExpertMatricesView& v) {
  return static_cast<std::uint64_t>(v.count) * static_cast<std::uint64_t>(v.first.rows) *
         static_cast<std::uint64_t>(v.first.cols / 2 + v.first.cols / 32);
}

}  // namespace

std::vector<std::uint8_t> dense_device_rows(const MatrixView& m, std::uint64_t* row_stride) {
  *row_stride = dense_row_bytes(m);
  std::vector<std::uint8_t> host(static_cast<std::size_t>(*row_stride * static_cast<std::uint64_t>(m.rows)), 0);
  for (std::int64_t r = 0; r < m.rows; ++r) {
    std::uint8_t* dst = host.data() + static_cast<std::uint64_t>(r) * *row_stride;
    if (m.format != WeightFormat::Q8_0) {
      std::memcpy(dst, m.row(r), static_cast<std::size_t>(m.bytes_per_row()));
      continue;
    }
    for (std::int64_t b = 0; b < m.cols / 32; ++b) {  // 34-byte block: f16 scale, 32 codes
      const std::uint8_t* block = m.row(r) + b * 34;
      std::memcpy(dst + b * 32, block + 2, 32);
      std::memcpy(dst + m.cols + b * 2, block, 2);
    }
  }
  return host;
}

DeviceArena::~DeviceArena() {
  for (void* p : blocks_) cudaFree(p);
}

void* DeviceArena::allocate(std::uint64_t bytes, const char* what) {
  void* p = nullptr;
  check(cudaMalloc(&p, std::max<std::uint64_t>(bytes, 16)), what);
  blocks_.push_back(p);
  bytes_ += bytes;
  return p;
}

std::uint64_t CudaWeights::planned_bytes(const ModelConfig& c, const ModelWeights& w) {
  auto dense = [](const MatrixView& m) { return dense_row_bytes(m) * static_cast<std::uint64_t>(m.rows); };
  std::uint64_t total = dense(w.embedding) + dense(w.unembedding) + static_cast<std::uint64_t>(c.hidden_size) * 4;
  for (const LayerWeights& L : w.layers) {
    total += dense(L.wq) + dense(L.wk) + dense(L.wv) + dense(L.wo) + dense(L.router);
    total += expert_bytes(L.gate) + expert_bytes(L.up) + expert_bytes(L.down);
    total += 4 * static_cast<std::uint64_t>(2 * c.hidden_size + 2 * c.q_dim() + 2 * c.kv_dim() + c.num_heads + c.num_experts);
    total += 4 * static_cast<std::uint64_t>(c.num_experts) * static_cast<std::uint64_t>(2 * c.intermediate_size + c.hidden_size);
  }
  return total;
}

CudaWeights::CudaWeights(const ModelConfig& c, const ModelWeights& w, const LoadControl& control) {
  Uploader up(arena_, control, planned_bytes(c, w));
  embedding = up.dense(w.embedding, "embedding");
  unembedding = up.dense(w.unembedding, "unembedding");
  final_norm = up.vector(w.final_norm, "final norm");
  for (const LayerWeights& L : w.layers) {
    CudaLayer g;
    g.attn_norm = up.vector(L.attn_norm, "attention norm");
    g.wq = up.dense(L.wq, "q projection");
    g.wk = up.dense(L.wk, "k projection");
    g.wv = up.dense(L.wv, "v projection");
    g.wo = up.dense(L.wo, "output projection");
    g.bq = up.vector(L.bq, "q bias");
    g.bk = up.vector(L.bk, "k bias");
    g.bv = up.vector(L.bv, "v bias");
    g.bo = up.vector(L.bo, "output bias");
    g.sinks = up.vector(L.sinks, "sinks");
    g.mlp_norm = up.vector(L.mlp_norm, "MLP norm");
    g.router = up.dense(L.router, "router");
    g.router_bias = up.vector(L.router_bias, "router bias");
    g.gate = up.experts(L.gate, "expert gate projections");
    g.up = up.experts(L.up, "expert up projections");
    g.down = up.experts(L.down, "expert down projections");
    g.gate_bias = up.expert_vectors(L.gate_bias, c.num_experts, "expert gate biases");
    g.up_bias = up.expert_vectors(L.up_bias, c.num_experts, "expert up biases");
    g.down_bias = up.expert_vectors(L.down_bias, c.num_experts, "expert down biases");
    layers.push_back(g);
  }
}

}  // namespace ossdesk::cuda
