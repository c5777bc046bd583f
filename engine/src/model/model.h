// A gpt-oss model opened from disk: Hugging Face folder (config.json +
// safetensors + tokenizer.json) or one GGUF file. Owns the memory mappings the
// weight views point into, so it must outlive every backend loaded from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tensor.h"
#include "model/weights.h"

namespace ossdesk {

class Tokenizer;
class SafetensorsArchive;
class GgufFile;

enum class ModelFormat { HuggingFace, Gguf };

class Model {
 public:
  // `path`: a folder with config.json, a .safetensors file (config.json beside
  // it), a model.safetensors.index.json, or a .gguf file. Throws ossdesk::Error.
  static std::unique_ptr<Model> open(const std::string& path);
  ~Model();

  ModelFormat format() const { return format_; }
  const char* format_name() const { return format_ == ModelFormat::Gguf ? "gguf" : "safetensors"; }
  const std::string& path() const { return path_; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  // The tokenizer shipped with the model, or null (then tokenizer_problem() says why).
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const std::string& tokenizer_problem() const { return tokenizer_problem_; }
  std::vector<TensorView> tensors() const;  // every stored tensor, file order
  std::uint64_t file_bytes() const;
  const SafetensorsArchive* safetensors() const { return safetensors_.get(); }
  const GgufFile* gguf() const { return gguf_.get(); }

 private:
  Model() = default;
  void bind_hf();
  void bind_gguf();

  ModelFormat format_ = ModelFormat::HuggingFace;
  std::string path_;
  ModelConfig config_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string tokenizer_problem_;
  std::unique_ptr<SafetensorsArchive> safetensors_;
  std::unique_ptr<GgufFile> gguf_;
};

// Memory a loaded model needs: weights (as stored) plus a KV cache for
// `context` tokens at `kv_bytes_per_value` (4 for f32, 2 for f16).
struct MemoryEstimate {
  std::uint64_t weights = 0;
  std::uint64_t kv_cache = 0;
  std::uint64_t scratch = 0;
  std::uint64_t total() const { return weights + kv_cache + scratch; }
};
MemoryEstimate estimate_memory(const ModelConfig& config, const ModelWeights& weights, int context, int kv_bytes_per_value,
                               int sliding_ring_extra = 512);

}  // namespace ossdesk
