// A GGUF model with Q8_0 embeddings, attention and unembedding (as ggml-org
// publishes gpt-oss), 40 random prompt tokens, and the CPU backend's logits
// for them: what the GPU backends' Q8 tests compare with.
#pragma once

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backend_runs.h"
#include "model/config.h"
#include "model/model.h"
#include "model/synth.h"

namespace ossdesk::test {

struct Q8Case {
  std::unique_ptr<Model> model;
  std::vector<int> tokens;
  std::vector<float> cpu_logits;  // [tokens x vocab]
  BackendOptions options;         // the context the CPU ran with
};

// `config` (a preset, maybe reshaped) written to `file` in the test work folder.
inline Q8Case q8_case(const ModelConfig& config, const std::string& file) {
  SynthOptions o;
  o.config = config;
  o.gguf = true;
  o.gguf_dense = DType::Q8_0;
  o.out = std::string(OSSDESK_TEST_WORK_DIR) + "/" + file;
  o.seed = 11;
  synth_model(o);
  Q8Case c;
  c.model = Model::open(o.out);
  std::mt19937 rng(5);
  for (int i = 0; i < 40; ++i) c.tokens.push_back(static_cast<int>(rng() % static_cast<unsigned>(config.vocab_size)));
  c.options.context_length = 64;
  auto cpu = create_backend("cpu", *c.model, c.options, {});
  c.cpu_logits = all_logits(*cpu, c.tokens);
  return c;
}

// gpt-oss-120b's routing in a small model: each token's 4 experts drawn from
// 128 (20b has 32, the golden models 8 and 16), so a 40-token prompt leaves
// most experts one to three rows.
inline ModelConfig config_routing_like_120b() {
  ModelConfig c = config_preset("tiny");
  c.num_experts = config_preset("120b").num_experts;
  c.vocab_size = 4096;
  return c;
}

// How many of that model's 40 positions a GPU backend must bring within the
// GPU criterion of the CPU's logits. 128 random experts leave some choices
// near-tied (this prompt's 4th and 5th at position 28 are 2e-4 apart in a
// layer), and the f16 KV cache alone can flip one: that position's logits
// move ~0.4, the later ones a little. Broken routing misses the criterion
// nearly everywhere; the kernels are checked exactly on equal inputs in the
// op tests.
constexpr int kRoutingLike120bPositionsToMeet = 36;

// Every position's logits [tokens x vocab]: the first `split` tokens prefilled
// in one chunk, the rest decoded one at a time.
inline std::vector<float> prefill_then_decode(Backend& b, const std::vector<int>& tokens, std::size_t split) {
  const std::size_t V = static_cast<std::size_t>(b.vocab_size());
  std::vector<float> out(tokens.size() * V);
  b.forward(std::span<const int>(tokens).first(split), LogitsMode::All, out.data());
  for (std::size_t t = split; t < tokens.size(); ++t)
    b.forward(std::span<const int>(&tokens[t], 1), LogitsMode::Last, out.data() + t * V);
  return out;
}

// How many positions of [rows x vocab] logits meet the GPU criterion against
// `ref`, each on its own; *worst gets the largest diff of any.
inline int positions_within_gpu_criterion(const std::vector<float>& got, const std::vector<float>& ref, std::size_t vocab,
                                          float* worst) {
  int met = 0;
  *worst = 0;
  for (std::size_t at = 0; at < ref.size(); at += vocab) {
    const std::vector<float> a(got.begin() + static_cast<std::ptrdiff_t>(at), got.begin() + static_cast<std::ptrdiff_t>(at + vocab));
    const std::vector<float> b(ref.begin() + static_cast<std::ptrdiff_t>(at), ref.begin() + static_cast<std::ptrdiff_t>(at + vocab));
    float diff = 0;
    met += gpu_criterion(a, b, vocab, &diff).isEmpty();
    *worst = std::max(*worst, diff);
  }
  return met;
}

}  // namespace ossdesk::test
