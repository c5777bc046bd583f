#include "model/gpt_oss_layout.h"

#include <nlohmann/json.hpp>

#include "model/gguf.h"
#include "ossdesk/error.h"

namespace ossdesk {

std::uint64_t PlannedTensor::nbytes() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return *dtype_bytes(dtype, n);
}

std::vector<PlannedTensor> plan_hf_tensors(const ModelConfig& c) {
  const auto H = static_cast<std::uint64_t>(c.hidden_size), I = static_cast<std::uint64_t>(c.intermediate_size),
             E = static_cast<std::uint64_t>(c.num_experts), V = static_cast<std::uint64_t>(c.vocab_size),
             Q = static_cast<std::uint64_t>(c.q_dim()), KV = static_cast<std::uint64_t>(c.kv_dim()),
             NH = static_cast<std::uint64_t>(c.num_heads);
  std::vector<PlannedTensor> plan;
  plan.push_back({"model.embed_tokens.weight", DType::BF16, {V, H}, TensorPart::Embedding, -1});
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    plan.push_back({p + "input_layernorm.weight", DType::BF16, {H}, TensorPart::AttnNorm, l});
    plan.push_back({p + "self_attn.q_proj.weight", DType::BF16, {Q, H}, TensorPart::Wq, l});
    plan.push_back({p + "self_attn.q_proj.bias", DType::BF16, {Q}, TensorPart::Bq, l});
    plan.push_back({p + "self_attn.k_proj.weight", DType::BF16, {KV, H}, TensorPart::Wk, l});
    plan.push_back({p + "self_attn.k_proj.bias", DType::BF16, {KV}, TensorPart::Bk, l});
    plan.push_back({p + "self_attn.v_proj.weight", DType::BF16, {KV, H}, TensorPart::Wv, l});
    plan.push_back({p + "self_attn.v_proj.bias", DType::BF16, {KV}, TensorPart::Bv, l});
    plan.push_back({p + "self_attn.o_proj.weight", DType::BF16, {H, Q}, TensorPart::Wo, l});
    plan.push_back({p + "self_attn.o_proj.bias", DType::BF16, {H}, TensorPart::Bo, l});
    plan.push_back({p + "self_attn.sinks", DType::BF16, {NH}, TensorPart::Sinks, l});
    plan.push_back({p + "post_attention_layernorm.weight", DType::BF16, {H}, TensorPart::MlpNorm, l});
    plan.push_back({p + "mlp.router.weight", DType::BF16, {E, H}, TensorPart::Router, l});
    plan.push_back({p + "mlp.router.bias", DType::BF16, {E}, TensorPart::RouterBias, l});
    plan.push_back({p + "mlp.experts.gate_up_proj_blocks", DType::U8, {E, 2 * I, H / 32, 16}, TensorPart::GateUpBlocks, l});
    plan.push_back({p + "mlp.experts.gate_up_proj_scales", DType::U8, {E, 2 * I, H / 32}, TensorPart::GateUpScales, l});
    plan.push_back({p + "mlp.experts.gate_up_proj_bias", DType::BF16, {E, 2 * I}, TensorPart::GateUpBias, l});
    plan.push_back({p + "mlp.experts.down_proj_blocks", DType::U8, {E, H, I / 32, 16}, TensorPart::DownBlocks, l});
    plan.push_back({p + "mlp.experts.down_proj_scales", DType::U8, {E, H, I / 32}, TensorPart::DownScales, l});
    plan.push_back({p + "mlp.experts.down_proj_bias", DType::BF16, {E, H}, TensorPart::DownBias, l});
  }
  plan.push_back({"model.norm.weight", DType::BF16, {H}, TensorPart::FinalNorm, -1});
  plan.push_back({"lm_head.weight", DType::BF16, {V, H}, TensorPart::Unembedding, -1});
  return plan;
}

std::vector<PlannedTensor> plan_gguf_tensors(const ModelConfig& c, DType dense) {
  const auto H = static_cast<std::uint64_t>(c.hidden_size), I = static_cast<std::uint64_t>(c.intermediate_size),
             E = static_cast<std::uint64_t>(c.num_experts), V = static_cast<std::uint64_t>(c.vocab_size),
             Q = static_cast<std::uint64_t>(c.q_dim()), KV = static_cast<std::uint64_t>(c.kv_dim()),
             NH = static_cast<std::uint64_t>(c.num_heads);
  const DType F = DType::F32;
  std::vector<PlannedTensor> plan;
  plan.push_back({"token_embd.weight", dense, {V, H}, TensorPart::Embedding, -1});
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    plan.push_back({p + "attn_norm.weight", F, {H}, TensorPart::AttnNorm, l});
    plan.push_back({p + "attn_q.weight", dense, {Q, H}, TensorPart::Wq, l});
    plan.push_back({p + "attn_q.bias", F, {Q}, TensorPart::Bq, l});
    plan.push_back({p + "attn_k.weight", dense, {KV, H}, TensorPart::Wk, l});
    plan.push_back({p + "attn_k.bias", F, {KV}, TensorPart::Bk, l});
    plan.push_back({p + "attn_v.weight", dense, {KV, H}, TensorPart::Wv, l});
    plan.push_back({p + "attn_v.bias", F, {KV}, TensorPart::Bv, l});
    plan.push_back({p + "attn_output.weight", dense, {H, Q}, TensorPart::Wo, l});
    plan.push_back({p + "attn_output.bias", F, {H}, TensorPart::Bo, l});
    plan.push_back({p + "attn_sinks.weight", F, {NH}, TensorPart::Sinks, l});
    plan.push_back({p + "post_attention_norm.weight", F, {H}, TensorPart::MlpNorm, l});
    plan.push_back({p + "ffn_gate_inp.weight", F, {E, H}, TensorPart::Router, l});
    plan.push_back({p + "ffn_gate_inp.bias", F, {E}, TensorPart::RouterBias, l});
    plan.push_back({p + "ffn_gate_exps.weight", DType::MXFP4, {E, I, H}, TensorPart::GateExps, l});
    plan.push_back({p + "ffn_gate_exps.bias", F, {E, I}, TensorPart::GateBias, l});
    plan.push_back({p + "ffn_up_exps.weight", DType::MXFP4, {E, I, H}, TensorPart::UpExps, l});
    plan.push_back({p + "ffn_up_exps.bias", F, {E, I}, TensorPart::UpBias, l});
    plan.push_back({p + "ffn_down_exps.weight", DType::MXFP4, {E, H, I}, TensorPart::DownExps, l});
    plan.push_back({p + "ffn_down_exps.bias", F, {E, H}, TensorPart::DownBias, l});
  }
  plan.push_back({"output_norm.weight", F, {H}, TensorPart::FinalNorm, -1});
  plan.push_back({"output.weight", dense, {V, H}, TensorPart::Unembedding, -1});
  return plan;
}

void write_gguf_model_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name) {
  for (int l = 0; l < c.num_layers; ++l)
    if (c.layer_is_sliding[l] != (l % 2 == 0))
      fail(ErrorKind::Unsupported, "layer_types: GGUF gpt-oss has sliding attention on exactly the even layers; layer " +
                                       std::to_string(l) + " differs");
  auto u32 = [](int v) { return GgufValue::u32(static_cast<std::uint32_t>(v)); };
  w.set("general.architecture", GgufValue::string("gpt-oss"));
  w.set("general.name", GgufValue::string(name));
  w.set("gpt-oss.block_count", u32(c.num_layers));
  w.set("gpt-oss.context_length", u32(c.max_context));
  w.set("gpt-oss.embedding_length", u32(c.hidden_size));
  w.set("gpt-oss.feed_forward_length", u32(c.intermediate_size));
  w.set("gpt-oss.expert_feed_forward_length", u32(c.intermediate_size));
  w.set("gpt-oss.attention.head_count", u32(c.num_heads));
  w.set("gpt-oss.attention.head_count_kv", u32(c.num_kv_heads));
  w.set("gpt-oss.attention.key_length", u32(c.head_dim));
  w.set("gpt-oss.attention.value_length", u32(c.head_dim));
  w.set("gpt-oss.attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(c.rms_norm_eps)));
  w.set("gpt-oss.attention.sliding_window", u32(c.sliding_window));
  w.set("gpt-oss.expert_count", u32(c.num_experts));
  w.set("gpt-oss.expert_used_count", u32(c.experts_per_token));
  w.set("gpt-oss.rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta)));
  if (c.rope_scaling_factor > 1.0) {
    w.set("gpt-oss.rope.scaling.type", GgufValue::string("yarn"));
    w.set("gpt-oss.rope.scaling.factor", GgufValue::f32(static_cast<float>(c.rope_scaling_factor)));
    w.set("gpt-oss.rope.scaling.original_context_length", u32(c.rope_original_context));
    // Not read by llama.cpp (which uses these values as its defaults); kept so
    // a non-default checkpoint survives the round trip.
    w.set("gpt-oss.rope.scaling.yarn_beta_fast", GgufValue::f32(static_cast<float>(c.rope_beta_fast)));
    w.set("gpt-oss.rope.scaling.yarn_beta_slow", GgufValue::f32(static_cast<float>(c.rope_beta_slow)));
  }
}

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json layer_types = nlohmann::ordered_json::array();
  for (bool s : c.layer_is_sliding) layer_types.push_back(s ? "sliding_attention" : "full_attention");
  nlohmann::ordered_json doc = {
      {"architectures", {"GptOssForCausalLM"}},
      {"model_type", "gpt_oss"},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_layers},
      {"num_attention_heads", c.num_heads},
      {"num_key_value_heads", c.num_kv_heads},
      {"head_dim", c.head_dim},
      {"num_local_experts", c.num_experts},
      {"num_experts_per_tok", c.experts_per_token},
      {"experts_per_token", c.experts_per_token},
      {"vocab_size", c.vocab_size},
      {"sliding_window", c.sliding_window},
      {"layer_types", layer_types},
      {"rope_theta", c.rope_theta},
      {"rope_scaling",
       {{"rope_type", "yarn"},
        {"factor", c.rope_scaling_factor},
        {"beta_fast", c.rope_beta_fast},
        {"beta_slow", c.rope_beta_slow},
        {"truncate", false},
        {"original_max_position_embeddings", c.rope_original_context}}},
      {"initial_context_length", c.rope_original_context},
      {"max_position_embeddings", c.max_context},
      {"rms_norm_eps", c.rms_norm_eps},
      {"swiglu_limit", c.swiglu_limit},
      {"attention_bias", true},
      {"tie_word_embeddings", false},
      {"torch_dtype", "bfloat16"},
      {"eos_token_id", 200002},
      {"pad_token_id", 199999},
      {"quantization_config",
       {{"quant_method", "mxfp4"},
        {"modules_to_not_convert", {"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"}}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace ossdesk
