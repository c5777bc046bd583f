// The Vulkan backend: the whole gpt-oss forward pass in compute shaders.
//
// Each forward chunk of T tokens is one recorded command buffer (see
// record()): embedding, then per layer q/k/v projections of the normed
// residual (the norm taken inside the products), RoPE with the f16 KV-cache
// append, attention, output projection + residual, RMSNorm + router + top-k,
// the fused expert kernels, and at the end the final norm, the unembedding and
// sampling (argmax, or the filtered draw of sample.comp). A decode layer is
// 8 stages with a barrier after each: q/k/v, RoPE + append, attention, its
// combine, o, router, gate/up, down. Recordings are cached by (T, logits, pick),
// so decode replays one command buffer per token: the host writes the
// position and token into a small host-visible buffer, submits, and waits
// for the sampled id (or the logits) - no other host work per token.
#pragma once

#include <map>
#include <memory>
#include <tuple>

#include "backends/backend.h"
#include "backends/kv_rings.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "backends/vulkan/vk_pipeline.h"
#include "backends/vulkan/vk_recording.h"
#include "backends/vulkan/vk_weights.h"

namespace ossdesk::vk {

class VulkanBackend final : public Backend {
 public:
  VulkanBackend(const Model& model, const BackendOptions& options, const LoadControl& control);
  ~VulkanBackend() override;

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
  struct Pipelines;
  // What the end of a chunk picks on the device: nothing, the argmax, or a
  // draw with the sampling parameters of the step buffer, recorded with the
  // passes of the filters it uses (vk_sampling.h).
  enum class Pick { None, Argmax, Draw, DrawTopK, DrawTopP, DrawTopKTopP };
  static bool is_draw(Pick p) { return p != Pick::None && p != Pick::Argmax; }
  void release();  // the raw Vulkan handles; the destructor and a failed constructor call it
  // Runs one chunk (at most batch_ tokens); returns the picked id unless Pick::None.
  TokenId run_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits, Pick pick);
  Recording& recording(int tokens, LogitsMode mode, Pick pick);
  void record(Recording& r, int tokens, LogitsMode mode, Pick pick);
  // y (=|+=) m . x + bias; with `norm`, x is the residual and its RMSNorm
  // (norm weights, the model's eps) is taken in the same pass (not on the
  // int8-dot path, whose input quantize_input() took from the normed row).
  // With `rope` (decode's q, k, v: fuses_rope()), the product's epilogue
  // does rope.comp's work: q rotated into y, k rotated and v copied into the
  // layer's cache (matvec.comp's EPILOGUE 1, 2, 3).
  struct RopeEpilogue {
    std::uint32_t kind;   // 1 q, 2 k, 3 v
    const Buffer* cache;  // k, v: the layer's cache
    std::uint32_t ring;   // the layer's ring slots, 0 = one slot per position
  };
  void matvec(Recording& r, const GpuMatrix& m, const Buffer& x, std::uint32_t x_offset, const Slice* bias,
              const Buffer& y, std::uint32_t y_stride, int tokens, bool accumulate, const Slice* norm = nullptr,
              const RopeEpilogue* rope = nullptr);
  const ComputePipeline& matvec_pipeline(std::uint32_t format, bool batched, std::uint32_t epilogue);
  // Whether a chunk of `tokens` runs layer L's q/k/v with the RoPE epilogue:
  // decode, one part a matrix, head_dim / 2 even (a workgroup's four rows
  // fill whole f16 pairs of the cache).
  bool fuses_rope(const GpuLayer& L, int tokens) const;
  // Prefill products with Q8 weights run on integer dot products where the
  // device has them: the input is quantized once (quantize_input) for the
  // matvec() calls of the same input that follow it in the recording.
  bool uses_int8_dot(const GpuMatrix& m, int tokens) const;
  // A part's scale array for the dense shaders' scale binding: Q8 rows have
  // one; other formats bind the dummy, which their shaders never read.
  VkDescriptorBufferInfo scales_of(const GpuMatrix& m, const GpuMatrix::Part& part) const;
  void quantize_input(Recording& r, std::initializer_list<const GpuMatrix*> consumers, const Buffer& x,
                      std::uint32_t x_offset, std::uint32_t cols, int tokens);
  void copy_rings(bool to_checkpoint);
  std::uint64_t activation_bytes() const;
  std::uint32_t max_tiles(int tokens) const;
  std::uint32_t route_entry_base(int tokens) const;

  const ModelConfig& config_;
  BackendOptions options_;
  std::shared_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  DeviceInfo info_;
  int batch_ = 0;        // tokens per chunk
  int logits_rows_ = 0;  // rows of logits one chunk can return (All mode)
  KvRings rings_;
  std::unique_ptr<GpuWeights> weights_;
  std::unique_ptr<Pipelines> pipelines_;
  std::map<std::tuple<std::uint32_t, bool, std::uint32_t>, std::unique_ptr<ComputePipeline>> matvec_pipelines_;

  // Activations for one chunk, the per-step inputs, and the KV cache.
  Buffer step_, x_, normed_, q_, k_, v_, attn_, choice_, route_weight_, act_, logits_, partial_;
  Buffer draw_;  // sample.comp's state and partial sums
  Buffer route_, expert_out_;  // prefill: assignments grouped by expert, and the experts' weighted outputs
  Buffer attention_partial_, attention_arrivals_;  // decode attention: the splits' softmax states, and their counts
  Buffer router_partial_, router_arrivals_;  // decode router: the column slices' logits, and their counts
  Buffer inv_freq_, dummy_;
  float rope_concentration_ = 1.0f;  // YaRN's cos/sin scale, with inv_freq_ the rope's parameters
  Buffer x_codes_, x_scales_;  // quantize_q8 output: int8 codes and per-32 scales
  std::vector<Buffer> keys_, values_, checkpoint_keys_, checkpoint_values_;
  Buffer io_step_, io_logits_;  // host-visible mirrors

  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::map<std::tuple<int, int, Pick>, std::unique_ptr<Recording>> recordings_;
  std::vector<OpTiming> profile_;
};

}  // namespace ossdesk::vk
