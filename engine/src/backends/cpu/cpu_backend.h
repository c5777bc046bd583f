// The CPU backend: the plain float32 implementation of the gpt-oss forward pass
// (DESIGN.md §2) and the numerical reference for the GPU backends. Weights are
// read in their stored format straight from the memory-mapped files and
// dequantized on the fly; work is split over a thread pool. After a load the
// weights are read into RAM in the background when they fit (weight_warm_up.h).
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/kv_cache.h"
#include "backends/cpu/rope.h"
#include "backends/cpu/weight_warm_up.h"
#include "util/thread_pool.h"

namespace ossdesk::cpu {

class CpuBackend final : public Backend {
 public:
  CpuBackend(const Model& model, const BackendOptions& options, const LoadControl& control);

  const DeviceInfo& device() const override { return device_; }
  int context_length() const override { return cache_.capacity(); }
  int position() const override { return cache_.position(); }
  int vocab_size() const override { return config_.vocab_size; }
  int kv_value_bytes() const override { return 4; }  // float keys and values (kv_cache.h)
  int truncate(int n) override { return cache_.truncate(n); }
  void checkpoint() override { cache_.checkpoint(); }
  void forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) override;
  std::vector<OpTiming> take_profile() override;
  WeightsStatus weights_status() const override { return warm_up_->status(); }
  void wait_for_weights() override { warm_up_->wait(); }

  const char* kernels_name() const { return kernels_.name; }

 private:
  void forward_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  BackendOptions options_;
  DeviceInfo device_;
  const Kernels& kernels_;
  std::unique_ptr<ThreadPool> pool_;
  YarnRope rope_;
  KvCache cache_;
  std::map<std::string, OpTiming> profile_;
  // Last, so its thread stops before anything else goes; after the KV cache,
  // so the free memory it judges by has the cache taken out.
  std::unique_ptr<WeightWarmUp> warm_up_;
};

// "Intel(R) Xeon(R) ... (N threads)" from /proc/cpuinfo or the OS; total RAM.
DeviceInfo describe_host_cpu(unsigned threads);

}  // namespace ossdesk::cpu
