// A GGUF model with Q8_0 embeddings, attention and unembedding (as ggml-org
// publishes gpt-oss), 40 random prompt tokens, and the CPU backend's logits
// for them: what the GPU backends' Q8 tests compare with.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend_runs.h"
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

}  // namespace ossdesk::test
