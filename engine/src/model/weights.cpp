#include "model/weights.h"

#include "util/half.h"

namespace ossdesk {

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "F32";
    case WeightFormat::F16: return "F16";
    case WeightFormat::BF16: return "BF16";
    case WeightFormat::Q8_0: return "Q8_0";
    case WeightFormat::MXFP4_HF: return "MXFP4";
    case WeightFormat::MXFP4_GGML: return "MXFP4";
  }
  return "?";
}

std::uint64_t MatrixView::bytes_per_row() const {
  const auto c = static_cast<std::uint64_t>(cols);
  switch (format) {
    case WeightFormat::F32: return c * 4;
    case WeightFormat::F16:
    case WeightFormat::BF16: return c * 2;
    case WeightFormat::Q8_0: return c / 32 * 34;
    case WeightFormat::MXFP4_HF:
    case WeightFormat::MXFP4_GGML: return c / 32 * 17;
  }
  return 0;
}

float VectorView::at(std::int64_t i) const {
  const std::uint8_t* p = data + static_cast<std::uint64_t>(i) * stride;
  switch (format) {
    case WeightFormat::F32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case WeightFormat::F16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return f16_to_f32(h);
    }
    case WeightFormat::BF16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return bf16_to_f32(h);
    }
    default: return 0.0f;  // vectors are never block-quantized (checked at load)
  }
}

std::uint64_t ModelWeights::bytes_read_per_token(const ModelConfig& c) const {
  auto m = [](const MatrixView& v) { return v.bytes_per_row() * static_cast<std::uint64_t>(v.rows); };
  std::uint64_t total = embedding.bytes_per_row() + m(unembedding);
  for (const auto& l : layers) {
    total += m(l.wq) + m(l.wk) + m(l.wv) + m(l.wo) + m(l.router);
    total += static_cast<std::uint64_t>(c.experts_per_token) * (m(l.gate.first) + m(l.up.first) + m(l.down.first));
  }
  return total;
}

}  // namespace ossdesk
