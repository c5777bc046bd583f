// The CPU backend: the plain float32 implementation of the gpt-oss forward pass
// (DESIGN.md §2) and the numerical reference for the GPU backends. Weights are
// read in their stored format straight from the memory-mapped files and
// dequantized on the fly; work is split over a thread pool.
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/kv_cache.h"
#include "backends/cpu/rope.h"
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
};

// "Intel(R) Xeon(R) ... (N threads)" from /proc/cpuinfo or the OS; total RAM.
DeviceInfo describe_host_cpu(unsigned threads);

}  // namespace ossdesk::cpu
