// The hyperparameters of a gpt-oss checkpoint, read from a Hugging Face
// config.json or from GGUF metadata (arch `gpt-oss`), and checked for
// consistency before any weight is touched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ossdesk {

class GgufFile;

struct ModelConfig {
  int hidden_size = 2880;
  int intermediate_size = 2880;  // width of one expert
  int num_layers = 24;
  int num_heads = 64;
  int num_kv_heads = 8;
  int head_dim = 64;
  int num_experts = 32;
  int experts_per_token = 4;
  int vocab_size = 201088;
  int sliding_window = 128;
  std::vector<bool> layer_is_sliding;  // per layer; default: even layers slide
  double rope_theta = 150000.0;
  double rope_scaling_factor = 32.0;
  double rope_beta_fast = 32.0;
  double rope_beta_slow = 1.0;
  int rope_original_context = 4096;
  int max_context = 131072;
  double rms_norm_eps = 1e-5;
  double swiglu_limit = 7.0;

  int q_dim() const { return num_heads * head_dim; }
  int kv_dim() const { return num_kv_heads * head_dim; }

  // Bytes of keys and values that decoding the token at `position` reads from
  // a KV cache of `value_bytes` per value (2 for f16): every layer attends to
  // the keys in its view, which a sliding layer caps at its window. With the
  // weights this is the numerator of the memory-bandwidth limit at depth.
  std::uint64_t kv_bytes_read(int position, int value_bytes) const;

  // Throws Error(BadInput) naming `source` and the field when something does not add up.
  void validate(const std::string& source) const;
};

ModelConfig config_from_hf_json(const std::string& json_text, const std::string& source);
ModelConfig config_from_gguf(const GgufFile& gguf);

// The named presets `synth` writes (tiny: small dims, full vocabulary).
ModelConfig config_preset(const std::string& name);  // "tiny" | "20b" | "120b"; throws on others

}  // namespace ossdesk
