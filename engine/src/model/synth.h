// `synth`: a gpt-oss checkpoint with random weights in the real shapes, for
// tests and benchmarks without the real weights. Values are scaled so
// activations stay in a realistic range (weights ~ 1/sqrt(fan_in), norms ~ 1),
// and the output is deterministic for a seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "model/config.h"
#include "model/dtype.h"

namespace ossdesk {

class Tokenizer;

struct SynthOptions {
  ModelConfig config;
  bool gguf = false;          // false: Hugging Face folder (config.json, safetensors, tokenizer.json)
  std::string out;            // folder (hf) or file (gguf)
  std::uint64_t seed = 0;
  const Tokenizer* tokenizer = nullptr;  // included when given
  DType gguf_dense = DType::Q8_0;        // type of embeddings/attention/output in GGUF (as ggml-org publishes)
  std::uint64_t shard_bytes = 4ull << 30;  // hf: split safetensors into shards of about this size
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

// Returns the bytes written. Throws Error(Io) on a write failure (disk full).
std::uint64_t synth_model(const SynthOptions& options);

}  // namespace ossdesk
