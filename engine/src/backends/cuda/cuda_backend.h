// The CUDA backend: the gpt-oss forward pass in the kernels of kernels/
// (kernel_api.h), one stream, weights and an f16 KV cache (KvRings) in device
// memory. Tokens are picked on the device (argmax or the host sampler's rules)
// so decode returns one id. Built into libossdesk_cuda with the kernels and
// created through cuda_plugin.cpp; the engine reaches it via cuda_loader.
#pragma once

#include <cuda_runtime.h>

#include <initializer_list>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/kv_rings.h"

namespace ossdesk::cuda {

// The device's theoretical peak memory bandwidth, double data rate times the
// bus width; 0 when the driver does not report the clock.
std::uint64_t peak_memory_bandwidth(int device);

// "" when this build's kernels run on the device (cuda_arch.h), else the
// device and why not: "NVIDIA GeForce RTX 2080 (compute 7.5; this build's
// CUDA kernels run on compute 8.0 and newer)". Listing and choosing a device
// both ask this.
std::string kernels_cannot_run_on(const cudaDeviceProp& device);

class CudaBackend final : public Backend {
 public:
  CudaBackend(const Model& model, const BackendOptions& options, const LoadControl& control);
  ~CudaBackend() override;

  const DeviceInfo& device() const override { return info_; }
  int context_length() const override { return rings_.capacity(); }
  int position() const override { return rings_.position(); }
  int vocab_size() const override { return config_.vocab_size; }
  int kv_value_bytes() const override { return 2; }  // f16 keys and values
  int truncate(int n) override;
  void checkpoint() override;
  void forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) override;
  TokenId forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) override;
  std::vector<OpTiming> take_profile() override;
  std::uint64_t device_memory_bytes() const override;

 private:
  struct Pick {
    enum Kind { None, Argmax, Draw } kind = None;
    SamplingParams params;
    float u = 0;
  };
  // The kernels a pick launches: none, argmax, or a draw with or without the
  // top-k and top-p passes (a chat's default draw needs neither). One decode
  // graph is captured per plan.
  enum PickPlan { kNoPick, kArgmax, kDraw, kDrawTopK, kDrawTopP, kDrawTopKTopP, kPickPlans };
  static int pick_plan(const Pick& pick);
  // What the host sends each chunk, in one copy to `step_`: the first
  // position and the draw's arguments (read by the kernels from device memory,
  // so a captured decode step replays for any position), then the tokens.
  struct StepHeader {
    std::int32_t position = 0;
    SampleArgs sample;
  };
  TokenId run_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits, const Pick& pick);
  // Enqueues one chunk of `tokens` already in host_step_: the forward pass,
  // then (mode or pick) the final norm and unembedding, then the pick and the
  // copy of its id to host_picked_.
  void enqueue_chunk(int tokens, LogitsMode mode, int plan);
  // Whether a product of these parts over `tokens` runs on tensor cores (gemm) rather than matrix-vector kernels.
  bool on_tensor_cores(const MatvecPart* parts, int count, int tokens) const;
  // y = W . rmsnorm(x) (norm given) or W . x for up to kMaxMatvecParts matrices
  // sharing x: on tensor cores for a chunk of enough tokens (tensor_rows() with
  // the norm into tensor_rows_, then gemm()), else in
  // one launch with the norm fused when the kernels allow, else as rmsnorm()
  // into normed_ and one matvec() per part.
  void project(std::initializer_list<MatvecPart> parts, const float* x, int x_stride, const float* norm, int tokens);
  // The decode step (one token, one pick) captured once per plan as a CUDA graph.
  cudaGraphExec_t decode_graph(int plan);
  void stage(const char* name);  // profiling: the work enqueued since the previous stage() is `name`
  void copy_rings(bool to_checkpoint);

  const ModelConfig& config_;
  BackendOptions options_;
  DeviceInfo info_;
  int device_ = 0;
  int batch_ = 0;
  int logits_rows_ = 0;
  KvRings rings_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<CudaWeights> weights_;
  DeviceArena scratch_;  // activations, KV cache, checkpoints
  float *x_ = nullptr, *normed_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr;
  DecodeSplits decode_splits_ = {};  // flash-decoding's per-split softmaxes and arrival counters
  RouterSplits router_splits_ = {};  // the split router's per-slice logits and arrival counters
  float *route_weight_ = nullptr, *act_ = nullptr, *logits_ = nullptr, *inv_freq_ = nullptr;
  float* expert_out_ = nullptr;  // the grouped experts' weighted outputs, [tokens*k x hidden]
  // The tensor-core products' input, rounded once per product (kernel_api.h:
  // tensor_rows), [tokens x 2 * max(hidden, q_dim)] 16-bit values.
  std::uint16_t* tensor_rows_ = nullptr;
  ExpertGroups groups_;          // the assignments grouped by expert, for the grouped experts
  // The experts' inputs in 8 bits when their matrix-vector products run by
  // dp4a (OSSDESK_CUDA_EXPERT_DP4A=1; the device's driver line says so);
  // codes null otherwise.
  Q8Rows normed_q8_, act_q8_;
  std::uint8_t* step_ = nullptr;  // StepHeader, then the chunk's tokens
  std::int32_t *position_ = nullptr, *tokens_ = nullptr, *choice_ = nullptr, *picked_ = nullptr;
  SampleArgs* sample_args_ = nullptr;
  void* sample_scratch_ = nullptr;  // the pick's passes' partial results and state (argmax(), sample())
  std::uint8_t* host_step_ = nullptr;     // pinned mirror of step_
  std::int32_t* host_picked_ = nullptr;  // pinned: the picked id
  bool use_graphs_ = true;                // OSSDESK_CUDA_GRAPHS=0 turns them off
  bool use_tensor_cores_ = true;          // prefill chunks on tensor cores; OSSDESK_CUDA_TENSOR_CORES=0 turns them off
  TensorPrecision tensor_precision_ = TensorPrecision::Split;  // OSSDESK_CUDA_TENSOR_PRECISION=single: one product a step
  bool programmatic_launch_ = false;      // OSSDESK_CUDA_PDL=1 on sm_90 and later (kernels/common.cuh)
  cudaGraphExec_t decode_graphs_[kPickPlans] = {};  // by PickPlan
  std::vector<std::uint16_t*> keys_, values_, checkpoint_keys_, checkpoint_values_;
  float rope_concentration_ = 1;

  // Profiling with CUDA events: (stage name, event after it).
  std::vector<std::pair<const char*, cudaEvent_t>> stage_events_;
  cudaEvent_t chunk_start_ = nullptr;
  std::vector<cudaEvent_t> event_pool_;
  std::vector<OpTiming> profile_;
};

}  // namespace ossdesk::cuda
