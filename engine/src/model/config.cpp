#include "model/config.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "model/gguf.h"
#include "ossdesk/error.h"
#include "util/json_input.h"

namespace ossdesk {
using json = nlohmann::json;

namespace {

int json_int(const json& doc, const char* key, const std::string& source, bool required, int fallback) {
  if (!doc.contains(key)) {
    if (required) fail_input(source + ": field '" + key + "' is missing");
    return fallback;
  }
  const json& v = doc[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > (1 << 30))
    fail_input(source + ": field '" + key + "': expected a non-negative integer, found " + v.dump());
  return v.get<int>();
}

double json_num(const json& doc, const char* key, const std::string& source, double fallback) {
  if (!doc.contains(key) || doc[key].is_null()) return fallback;
  if (!doc[key].is_number()) fail_input(source + ": field '" + key + "': expected a number, found " + doc[key].dump());
  return doc[key].get<double>();
}

void default_layer_types(ModelConfig& c) {
  c.layer_is_sliding.assign(c.num_layers, false);
  for (int i = 0; i < c.num_layers; i += 2) c.layer_is_sliding[i] = true;
}

}  // namespace

std::uint64_t ModelConfig::kv_bytes_read(int position, int value_bytes) const {
  std::uint64_t keys = 0;
  for (int l = 0; l < num_layers; ++l) {
    const bool sliding = l < static_cast<int>(layer_is_sliding.size()) && layer_is_sliding[static_cast<std::size_t>(l)];
    keys += static_cast<std::uint64_t>(sliding ? std::min(position + 1, sliding_window) : position + 1);
  }
  return keys * static_cast<std::uint64_t>(kv_dim()) * 2 * static_cast<std::uint64_t>(value_bytes);
}

void ModelConfig::validate(const std::string& source) const {
  auto positive = [&](int v, const char* name) {
    if (v <= 0) fail_input(source + ": " + name + " must be positive, found " + std::to_string(v));
  };
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_layers, "num_hidden_layers");
  positive(num_heads, "num_attention_heads");
  positive(num_kv_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  positive(num_experts, "num_local_experts");
  positive(experts_per_token, "num_experts_per_tok");
  positive(vocab_size, "vocab_size");
  if (num_layers > 1024) fail_input(source + ": num_hidden_layers " + std::to_string(num_layers) + " is not plausible");
  if (num_heads % num_kv_heads != 0)
    fail_input(source + ": num_attention_heads " + std::to_string(num_heads) + " is not a multiple of num_key_value_heads " +
               std::to_string(num_kv_heads));
  if (head_dim % 2 != 0) fail_input(source + ": head_dim must be even for RoPE, found " + std::to_string(head_dim));
  if (experts_per_token > num_experts)
    fail_input(source + ": num_experts_per_tok " + std::to_string(experts_per_token) + " exceeds num_local_experts " +
               std::to_string(num_experts));
  if (hidden_size % 32 != 0 || intermediate_size % 32 != 0)
    fail_input(source + ": hidden_size and intermediate_size must be multiples of 32 (MXFP4 blocks), found " +
               std::to_string(hidden_size) + " and " + std::to_string(intermediate_size));
  if (static_cast<int>(layer_is_sliding.size()) != num_layers)
    fail_input(source + ": layer_types has " + std::to_string(layer_is_sliding.size()) + " entries, expected " +
               std::to_string(num_layers));
  bool any_sliding = false;
  for (bool s : layer_is_sliding) any_sliding |= s;
  if (any_sliding && sliding_window <= 0) fail_input(source + ": sliding_window must be positive");
  if (rope_theta <= 1.0) fail_input(source + ": rope_theta must be > 1");
  if (rope_scaling_factor < 1.0) fail_input(source + ": rope_scaling.factor must be >= 1");
  if (rope_original_context <= 0) fail_input(source + ": rope_scaling.original_max_position_embeddings must be positive");
  if (!(rms_norm_eps > 0)) fail_input(source + ": rms_norm_eps must be positive");
}

ModelConfig config_from_hf_json(const std::string& json_text, const std::string& source) {
  const json doc = parse_json_input<json>(json_text, source);
  if (!doc.is_object()) fail_input(source + ": expected a JSON object");
  if (doc.contains("model_type") && doc["model_type"] != "gpt_oss")
    fail(ErrorKind::Unsupported, source + ": model_type is " + doc["model_type"].dump() + ", expected \"gpt_oss\"");
  ModelConfig c;
  c.hidden_size = json_int(doc, "hidden_size", source, true, 0);
  c.intermediate_size = json_int(doc, "intermediate_size", source, true, 0);
  c.num_layers = json_int(doc, "num_hidden_layers", source, true, 0);
  c.num_heads = json_int(doc, "num_attention_heads", source, true, 0);
  c.num_kv_heads = json_int(doc, "num_key_value_heads", source, true, 0);
  c.head_dim = json_int(doc, "head_dim", source, false, c.hidden_size / std::max(1, c.num_heads));
  c.num_experts = json_int(doc, "num_local_experts", source, true, 0);
  c.experts_per_token = json_int(doc, "num_experts_per_tok", source, false, json_int(doc, "experts_per_token", source, false, 4));
  c.vocab_size = json_int(doc, "vocab_size", source, true, 0);
  c.sliding_window = json_int(doc, "sliding_window", source, false, 128);
  c.max_context = json_int(doc, "max_position_embeddings", source, false, 131072);
  c.rope_theta = json_num(doc, "rope_theta", source, 150000.0);
  c.rms_norm_eps = json_num(doc, "rms_norm_eps", source, 1e-5);
  c.swiglu_limit = json_num(doc, "swiglu_limit", source, 7.0);
  if (doc.contains("rope_scaling") && doc["rope_scaling"].is_object()) {
    const json& rs = doc["rope_scaling"];
    const std::string rs_source = source + ": rope_scaling";
    if (rs.contains("rope_type") && rs["rope_type"] != "yarn")
      fail(ErrorKind::Unsupported, rs_source + ".rope_type is " + rs["rope_type"].dump() + ", expected \"yarn\"");
    c.rope_scaling_factor = json_num(rs, "factor", rs_source, 32.0);
    c.rope_beta_fast = json_num(rs, "beta_fast", rs_source, 32.0);
    c.rope_beta_slow = json_num(rs, "beta_slow", rs_source, 1.0);
    c.rope_original_context = json_int(rs, "original_max_position_embeddings", rs_source, false, 4096);
  } else {
    c.rope_scaling_factor = 1.0;
    c.rope_original_context = json_int(doc, "initial_context_length", source, false, 4096);
  }
  if (doc.contains("layer_types")) {
    const json& lt = doc["layer_types"];
    if (!lt.is_array()) fail_input(source + ": layer_types: expected an array");
    for (std::size_t i = 0; i < lt.size(); ++i) {
      if (lt[i] == "sliding_attention") c.layer_is_sliding.push_back(true);
      else if (lt[i] == "full_attention") c.layer_is_sliding.push_back(false);
      else fail_input(source + ": layer_types[" + std::to_string(i) + "]: expected \"sliding_attention\" or \"full_attention\", found " + lt[i].dump());
    }
  } else {
    default_layer_types(c);
  }
  c.validate(source);
  return c;
}

ModelConfig config_from_gguf(const GgufFile& g) {
  const std::string& source = g.path();
  const std::string arch = g.get("general.architecture").as_string("general.architecture");
  if (arch != "gpt-oss")
    fail(ErrorKind::Unsupported, source + ": general.architecture is \"" + arch + "\", expected \"gpt-oss\"");
  auto get_int = [&](const std::string& key, std::optional<int> fallback) -> int {
    const GgufValue* v = g.find("gpt-oss." + key);
    if (!v) {
      if (!fallback) fail_input(source + ": metadata key 'gpt-oss." + key + "' is missing");
      return *fallback;
    }
    const std::int64_t x = v->as_int("gpt-oss." + key);
    if (x < 0 || x > (1 << 30)) fail_input(source + ": gpt-oss." + key + " = " + std::to_string(x) + " is out of range");
    return static_cast<int>(x);
  };
  auto get_num = [&](const std::string& key, double fallback) {
    const GgufValue* v = g.find("gpt-oss." + key);
    return v ? v->as_double("gpt-oss." + key) : fallback;
  };
  ModelConfig c;
  c.hidden_size = get_int("embedding_length", std::nullopt);
  c.num_layers = get_int("block_count", std::nullopt);
  c.num_heads = get_int("attention.head_count", std::nullopt);
  c.num_kv_heads = get_int("attention.head_count_kv", std::nullopt);
  c.head_dim = get_int("attention.key_length", c.hidden_size / std::max(1, c.num_heads));
  c.num_experts = get_int("expert_count", std::nullopt);
  c.experts_per_token = get_int("expert_used_count", std::nullopt);
  c.intermediate_size = get_int("expert_feed_forward_length", get_int("feed_forward_length", std::nullopt));
  c.sliding_window = get_int("attention.sliding_window", 128);
  c.max_context = get_int("context_length", 131072);
  c.rope_theta = get_num("rope.freq_base", 150000.0);
  c.rms_norm_eps = get_num("attention.layer_norm_rms_epsilon", 1e-5);
  c.swiglu_limit = get_num("swiglu_limit", 7.0);
  if (const GgufValue* t = g.find("gpt-oss.rope.scaling.type"); t && t->as_string("gpt-oss.rope.scaling.type") != "yarn")
    fail(ErrorKind::Unsupported, source + ": gpt-oss.rope.scaling.type is \"" + t->as_string("") + "\", expected \"yarn\"");
  c.rope_scaling_factor = get_num("rope.scaling.factor", 1.0);
  c.rope_original_context = get_int("rope.scaling.original_context_length", 4096);
  c.rope_beta_fast = get_num("rope.scaling.yarn_beta_fast", 32.0);
  c.rope_beta_slow = get_num("rope.scaling.yarn_beta_slow", 1.0);
  // llama.cpp stores the vocabulary size only as the token list / tensor shape.
  if (const GgufValue* tokens = g.find("tokenizer.ggml.tokens"))
    c.vocab_size = static_cast<int>(tokens->as_array("tokenizer.ggml.tokens").size());
  else if (const TensorView* out = g.find_tensor("output.weight"))
    c.vocab_size = static_cast<int>(out->shape.front());
  default_layer_types(c);  // llama.cpp's gpt-oss: swa pattern 2, even layers slide
  c.validate(source);
  return c;
}

ModelConfig config_preset(const std::string& name) {
  ModelConfig c;  // defaults are gpt-oss-20b
  if (name == "20b") {
  } else if (name == "120b") {
    c.num_layers = 36;
    c.num_experts = 128;
  } else if (name == "tiny") {
    c.hidden_size = 128;
    c.intermediate_size = 128;
    c.num_layers = 4;
    c.num_heads = 8;
    c.num_kv_heads = 2;
    c.num_experts = 8;
    c.sliding_window = 8;
  } else {
    fail_input("unknown preset '" + name + "' (expected tiny, 20b or 120b)");
  }
  default_layer_types(c);
  return c;
}

}  // namespace ossdesk
