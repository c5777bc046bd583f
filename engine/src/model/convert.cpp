#include "model/convert.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include "model/gguf.h"
#include "model/gpt_oss_layout.h"
#include "model/model.h"
#include "model/tokenizer_export.h"
#include "ossdesk/error.h"
#include "tokenizer/tokenizer.h"
#include "util/half.h"

namespace ossdesk {

void repack_mxfp4_row_hf_to_ggml(const std::uint8_t* codes, const std::uint8_t* scales, std::int64_t cols, std::uint8_t* out) {
  for (std::int64_t b = 0; b < cols / 32; ++b) {
    const std::uint8_t* q = codes + b * 16;
    std::uint8_t nib[32];
    for (int k = 0; k < 16; ++k) {
      nib[2 * k] = q[k] & 15;
      nib[2 * k + 1] = q[k] >> 4;
    }
    std::uint8_t* o = out + b * 17;
    o[0] = scales[b];
    for (int j = 0; j < 16; ++j) o[1 + j] = static_cast<std::uint8_t>(nib[j] | (nib[j + 16] << 4));
  }
}

namespace {

using Sink = std::function<void(const void*, std::size_t)>;

DType stored_dtype(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return DType::F32;
    case WeightFormat::F16: return DType::F16;
    case WeightFormat::BF16: return DType::BF16;
    case WeightFormat::Q8_0: return DType::Q8_0;
    default: return DType::MXFP4;
  }
}

void emit_vector(const VectorView& v, const Sink& sink) {
  std::vector<float> out(static_cast<std::size_t>(v.n));
  for (std::int64_t i = 0; i < v.n; ++i) out[i] = v.at(i);
  sink(out.data(), out.size() * 4);
}

// Rows of a matrix in `target` type: the stored bytes when they already are,
// float32 from 16-bit floats, ggml MXFP4 from Hugging Face MXFP4.
void emit_matrix(const MatrixView& m, DType target, const std::string& name, const Sink& sink) {
  std::vector<std::uint8_t> row;
  for (std::int64_t r = 0; r < m.rows; ++r) {
    if (m.format == WeightFormat::MXFP4_HF && target == DType::MXFP4) {
      row.resize(static_cast<std::size_t>(m.cols / 32 * 17));
      repack_mxfp4_row_hf_to_ggml(m.row(r), m.row_scales(r), m.cols, row.data());
      sink(row.data(), row.size());
    } else if (stored_dtype(m.format) == target && m.format != WeightFormat::MXFP4_HF) {
      sink(m.row(r), static_cast<std::size_t>(m.bytes_per_row()));
    } else if (target == DType::F32 && (m.format == WeightFormat::BF16 || m.format == WeightFormat::F16)) {
      std::vector<float> f(static_cast<std::size_t>(m.cols));
      for (std::int64_t c = 0; c < m.cols; ++c) {
        std::uint16_t h;
        std::memcpy(&h, m.row(r) + 2 * c, 2);
        f[c] = m.format == WeightFormat::BF16 ? bf16_to_f32(h) : f16_to_f32(h);
      }
      sink(f.data(), f.size() * 4);
    } else {
      fail(ErrorKind::Unsupported, "convert: tensor '" + name + "': cannot turn " + weight_format_name(m.format) + " into " +
                                       dtype_name(target));
    }
  }
}

}  // namespace

std::uint64_t convert_to_gguf(const Model& model, const std::string& out,
                              const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  // Dense weights keep their stored type; ggml has no place for the HF MXFP4 split.
  const DType dense = stored_dtype(w.layers.empty() ? w.unembedding.format : w.layers[0].wq.format);
  const auto plan = plan_gguf_tensors(c, dense);
  GgufWriter writer;
  write_gguf_model_metadata(writer, c, "gpt-oss converted from " + std::filesystem::path(model.path()).filename().string());
  if (model.tokenizer()) write_gguf_tokenizer(writer, *model.tokenizer());
  std::uint64_t total = 0;
  for (const auto& t : plan) {
    writer.add_tensor(t.name, t.dtype, t.shape);
    total += t.nbytes();
  }
  writer.begin(out);
  std::uint64_t done = 0;
  const Sink sink = [&](const void* p, std::size_t n) {
    writer.write(p, n);
    done += n;
    if (progress) progress(done, total);
  };
  for (const auto& t : plan) {
    const LayerWeights* L = t.layer >= 0 ? &w.layers[t.layer] : nullptr;
    auto experts = [&](const ExpertMatricesView& e) {
      for (int x = 0; x < e.count; ++x) emit_matrix(e.expert(x), t.dtype, t.name, sink);
    };
    auto expert_bias = [&](const ExpertVectorsView& e) {
      for (int x = 0; x < c.num_experts; ++x) emit_vector(e.expert(x), sink);
    };
    switch (t.part) {
      case TensorPart::Embedding: emit_matrix(w.embedding, t.dtype, t.name, sink); break;
      case TensorPart::Unembedding: emit_matrix(w.unembedding, t.dtype, t.name, sink); break;
      case TensorPart::FinalNorm: emit_vector(w.final_norm, sink); break;
      case TensorPart::AttnNorm: emit_vector(L->attn_norm, sink); break;
      case TensorPart::Wq: emit_matrix(L->wq, t.dtype, t.name, sink); break;
      case TensorPart::Bq: emit_vector(L->bq, sink); break;
      case TensorPart::Wk: emit_matrix(L->wk, t.dtype, t.name, sink); break;
      case TensorPart::Bk: emit_vector(L->bk, sink); break;
      case TensorPart::Wv: emit_matrix(L->wv, t.dtype, t.name, sink); break;
      case TensorPart::Bv: emit_vector(L->bv, sink); break;
      case TensorPart::Wo: emit_matrix(L->wo, t.dtype, t.name, sink); break;
      case TensorPart::Bo: emit_vector(L->bo, sink); break;
      case TensorPart::Sinks: emit_vector(L->sinks, sink); break;
      case TensorPart::MlpNorm: emit_vector(L->mlp_norm, sink); break;
      case TensorPart::Router: emit_matrix(L->router, t.dtype, t.name, sink); break;
      case TensorPart::RouterBias: emit_vector(L->router_bias, sink); break;
      case TensorPart::GateExps: experts(L->gate); break;
      case TensorPart::UpExps: experts(L->up); break;
      case TensorPart::DownExps: experts(L->down); break;
      case TensorPart::GateBias: expert_bias(L->gate_bias); break;
      case TensorPart::UpBias: expert_bias(L->up_bias); break;
      case TensorPart::DownBias: expert_bias(L->down_bias); break;
      default: fail(ErrorKind::Internal, "convert: tensor '" + t.name + "' has no source");
    }
  }
  writer.finish();
  return std::filesystem::file_size(out);
}

}  // namespace ossdesk
