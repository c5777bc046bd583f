// The list of tensors a gpt-oss checkpoint consists of, in the two layouts the
// engine writes: Hugging Face (names of openai/gpt-oss-20b, experts as MXFP4
// blocks + scales) and GGUF (names of llama.cpp's converter, gate and up
// experts split). `synth` and `convert` walk these plans; the loaders in
// bind_hf.cpp / bind_gguf.cpp read the same names.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "model/dtype.h"

namespace ossdesk {

class GgufWriter;

enum class TensorPart {
  Embedding, Unembedding, FinalNorm,
  AttnNorm, Wq, Bq, Wk, Bk, Wv, Bv, Wo, Bo, Sinks,
  MlpNorm, Router, RouterBias,
  // Hugging Face experts
  GateUpBlocks, GateUpScales, GateUpBias, DownBlocks, DownScales,
  // GGUF experts (ggml MXFP4 blocks)
  GateExps, UpExps, DownExps, GateBias, UpBias,
  DownBias,  // both layouts
};

struct PlannedTensor {
  std::string name;
  DType dtype;
  std::vector<std::uint64_t> shape;  // outermost first
  TensorPart part;
  int layer;  // -1 for global tensors
  std::uint64_t nbytes() const;
};

std::vector<PlannedTensor> plan_hf_tensors(const ModelConfig& config);

// Types of the GGUF tensors: `dense` for embeddings, attention and the output
// (BF16 keeps a Hugging Face checkpoint exact; Q8_0 is what ggml-org publishes),
// F32 for norms, biases, sinks and the router, MXFP4 for the experts.
std::vector<PlannedTensor> plan_gguf_tensors(const ModelConfig& config, DType dense);

// general.* and gpt-oss.* keys (everything but the tokenizer).
void write_gguf_model_metadata(GgufWriter& writer, const ModelConfig& config, const std::string& name);

// config.json of the Hugging Face layout.
std::string hf_config_json(const ModelConfig& config);

}  // namespace ossdesk
