// GGUF layout (llama.cpp's gpt-oss converter): blk.N.* names, gate and up
// experts as separate tensors (or fused `ffn_gate_up_exps`: gate rows then up
// rows), MXFP4 as 17-byte ggml blocks, the tokenizer in tokenizer.ggml.* keys.
#include "model/bind.h"
#include "model/gguf.h"
#include "model/gguf_tokenizer.h"
#include "model/model.h"
#include "ossdesk/error.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk {

namespace {

ExpertMatricesView bind_experts(const TensorView& t, std::uint64_t experts, std::uint64_t rows_stored, std::uint64_t cols,
                                std::uint64_t row_offset, std::uint64_t rows) {
  expect_tensor(t, {DType::MXFP4, DType::Q8_0, DType::BF16, DType::F16, DType::F32}, {experts, rows_stored, cols});
  ExpertMatricesView v;
  v.count = static_cast<int>(experts);
  v.first.format = plain_format(t.dtype);
  v.first.rows = static_cast<std::int64_t>(rows);
  v.first.cols = static_cast<std::int64_t>(cols);
  v.first.row_stride = v.first.bytes_per_row();
  v.first.data = t.data + row_offset * v.first.row_stride;
  v.expert_stride = rows_stored * v.first.row_stride;
  return v;
}

ExpertVectorsView bind_expert_bias(const TensorView& t, std::uint64_t experts, std::uint64_t n_stored, std::uint64_t offset,
                                   std::uint64_t n) {
  expect_tensor(t, {DType::F32, DType::F16, DType::BF16}, {experts, n_stored});
  const std::uint64_t elem = t.dtype == DType::F32 ? 4 : 2;
  ExpertVectorsView v;
  v.first.format = plain_format(t.dtype);
  v.first.n = static_cast<std::int64_t>(n);
  v.first.data = t.data + offset * elem;
  v.first.stride = elem;
  v.expert_stride = n_stored * elem;
  return v;
}

}  // namespace

void Model::bind_gguf() {
  const GgufFile& g = *gguf_;
  const ModelConfig& c = config_;
  const auto H = static_cast<std::uint64_t>(c.hidden_size), I = static_cast<std::uint64_t>(c.intermediate_size),
             E = static_cast<std::uint64_t>(c.num_experts), V = static_cast<std::uint64_t>(c.vocab_size);
  weights_.embedding = bind_matrix(g.tensor("token_embd.weight"), V, H);
  weights_.final_norm = bind_vector(g.tensor("output_norm.weight"), H);
  weights_.unembedding = bind_matrix(g.tensor("output.weight"), V, H);
  weights_.layers.resize(c.num_layers);
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = weights_.layers[i];
    bind_dense_layer(l, c, [&](const std::string& name) -> const TensorView& { return g.tensor(name); },
                     {p + "attn_norm.weight", p + "attn_q.weight", p + "attn_q.bias", p + "attn_k.weight",
                      p + "attn_k.bias", p + "attn_v.weight", p + "attn_v.bias", p + "attn_output.weight",
                      p + "attn_output.bias", p + "attn_sinks.weight", p + "post_attention_norm.weight",
                      p + "ffn_gate_inp.weight", p + "ffn_gate_inp.bias"});
    if (const TensorView* fused = g.find_tensor(p + "ffn_gate_up_exps.weight")) {
      l.gate = bind_experts(*fused, E, 2 * I, H, 0, I);
      l.up = bind_experts(*fused, E, 2 * I, H, I, I);
      const TensorView& b = g.tensor(p + "ffn_gate_up_exps.bias");
      l.gate_bias = bind_expert_bias(b, E, 2 * I, 0, I);
      l.up_bias = bind_expert_bias(b, E, 2 * I, I, I);
    } else {
      l.gate = bind_experts(g.tensor(p + "ffn_gate_exps.weight"), E, I, H, 0, I);
      l.up = bind_experts(g.tensor(p + "ffn_up_exps.weight"), E, I, H, 0, I);
      l.gate_bias = bind_expert_bias(g.tensor(p + "ffn_gate_exps.bias"), E, I, 0, I);
      l.up_bias = bind_expert_bias(g.tensor(p + "ffn_up_exps.bias"), E, I, 0, I);
    }
    l.down = bind_experts(g.tensor(p + "ffn_down_exps.weight"), E, H, I, 0, H);
    l.down_bias = bind_expert_bias(g.tensor(p + "ffn_down_exps.bias"), E, H, 0, H);
  }
  try {
    tokenizer_ = tokenizer_from_gguf(g);
  } catch (const Error& e) {
    tokenizer_problem_ = e.what();
  }
}

}  // namespace ossdesk
