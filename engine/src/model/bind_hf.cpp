// Hugging Face layout (openai/gpt-oss-20b): names under model.layers.N, dense
// tensors BF16, experts MXFP4 as *_blocks [E, R, C/32, 16] + *_scales [E, R, C/32]
// with gate_up rows interleaved (even = glu, odd = linear).
#include <filesystem>

#include "model/bind.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "ossdesk/error.h"
#include "tokenizer/tokenizer.h"
#include "util/mapped_file.h"

namespace ossdesk {
namespace fs = std::filesystem;

namespace {

// Experts of one MXFP4 projection, taking every `row_step`-th row starting at `row_offset`.
ExpertMatricesView bind_mxfp4_experts(const TensorView& blocks, const TensorView& scales, std::uint64_t experts,
                                      std::uint64_t rows_stored, std::uint64_t cols, std::uint64_t row_step,
                                      std::uint64_t row_offset) {
  const std::uint64_t nb = cols / 32;
  expect_tensor(blocks, {DType::U8}, {experts, rows_stored, nb, 16});
  expect_tensor(scales, {DType::U8}, {experts, rows_stored, nb});
  ExpertMatricesView v;
  v.count = static_cast<int>(experts);
  v.first.format = WeightFormat::MXFP4_HF;
  v.first.rows = static_cast<std::int64_t>(rows_stored / row_step);
  v.first.cols = static_cast<std::int64_t>(cols);
  v.first.row_stride = row_step * nb * 16;
  v.first.data = blocks.data + row_offset * nb * 16;
  v.first.scale_row_stride = row_step * nb;
  v.first.scales = scales.data + row_offset * nb;
  v.expert_stride = rows_stored * nb * 16;
  v.scale_expert_stride = rows_stored * nb;
  return v;
}

ExpertVectorsView bind_expert_bias(const TensorView& t, std::uint64_t experts, std::uint64_t n_stored, std::uint64_t step,
                                   std::uint64_t offset) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16}, {experts, n_stored});
  ExpertVectorsView v;
  const std::uint64_t elem = t.dtype == DType::F32 ? 4 : 2;
  v.first.format = plain_format(t.dtype);
  v.first.n = static_cast<std::int64_t>(n_stored / step);
  v.first.data = t.data + offset * elem;
  v.first.stride = step * elem;
  v.expert_stride = n_stored * elem;
  return v;
}

}  // namespace

void Model::bind_hf() {
  const SafetensorsArchive& st = *safetensors_;
  const ModelConfig& c = config_;
  const auto H = static_cast<std::uint64_t>(c.hidden_size), I = static_cast<std::uint64_t>(c.intermediate_size),
             E = static_cast<std::uint64_t>(c.num_experts), V = static_cast<std::uint64_t>(c.vocab_size);
  weights_.embedding = bind_matrix(st.get("model.embed_tokens.weight"), V, H);
  weights_.final_norm = bind_vector(st.get("model.norm.weight"), H);
  weights_.unembedding = bind_matrix(st.get("lm_head.weight"), V, H);
  weights_.layers.resize(c.num_layers);
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights& l = weights_.layers[i];
    bind_dense_layer(l, c, [&](const std::string& name) -> const TensorView& { return st.get(name); },
                     {p + "input_layernorm.weight", p + "self_attn.q_proj.weight", p + "self_attn.q_proj.bias",
                      p + "self_attn.k_proj.weight", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.weight",
                      p + "self_attn.v_proj.bias", p + "self_attn.o_proj.weight", p + "self_attn.o_proj.bias",
                      p + "self_attn.sinks", p + "post_attention_layernorm.weight", p + "mlp.router.weight",
                      p + "mlp.router.bias"});
    const std::string x = p + "mlp.experts.";
    if (!st.find(x + "gate_up_proj_blocks") && st.find(x + "gate_up_proj"))
      fail(ErrorKind::Unsupported, st.get(x + "gate_up_proj").file + ": tensor '" + x +
                                       "gate_up_proj': unquantized (dequantized) expert weights are not supported; "
                                       "use the original MXFP4 checkpoint or a GGUF file");
    const TensorView& gu_blocks = st.get(x + "gate_up_proj_blocks");
    const TensorView& gu_scales = st.get(x + "gate_up_proj_scales");
    l.gate = bind_mxfp4_experts(gu_blocks, gu_scales, E, 2 * I, H, 2, 0);
    l.up = bind_mxfp4_experts(gu_blocks, gu_scales, E, 2 * I, H, 2, 1);
    const TensorView& gu_bias = st.get(x + "gate_up_proj_bias");
    l.gate_bias = bind_expert_bias(gu_bias, E, 2 * I, 2, 0);
    l.up_bias = bind_expert_bias(gu_bias, E, 2 * I, 2, 1);
    l.down = bind_mxfp4_experts(st.get(x + "down_proj_blocks"), st.get(x + "down_proj_scales"), E, H, I, 1, 0);
    l.down_bias = bind_expert_bias(st.get(x + "down_proj_bias"), E, H, 1, 0);
  }
}

}  // namespace ossdesk
