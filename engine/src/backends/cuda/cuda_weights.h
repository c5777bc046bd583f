// The model's weights on a CUDA device in the layouts kernels/kernel_api.h
// describes: dense matrices in their stored format (rows packed), MXFP4
// experts as nibble pairs plus scale bytes (Hugging Face and GGUF packings
// both end up the same), vectors as float. The plan (bytes per tensor) is
// made before anything is allocated, so "does not fit" is said up front.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/backend.h"
#include "kernel_api.h"

namespace ossdesk::cuda {

struct CudaLayer {
  const float *attn_norm = nullptr, *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr, *sinks = nullptr;
  const float *mlp_norm = nullptr, *router_bias = nullptr;
  DenseMatrix wq, wk, wv, wo, router;
  ExpertMatrices gate, up, down;
  const float *gate_bias = nullptr, *up_bias = nullptr, *down_bias = nullptr;  // [experts x rows]
};

// Device allocations freed together (also when a constructor throws half way).
class DeviceArena {
 public:
  DeviceArena() = default;
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;
  ~DeviceArena();
  void* allocate(std::uint64_t bytes, const char* what);
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::vector<void*> blocks_;
  std::uint64_t bytes_ = 0;
};

// The rows of a dense matrix (F32, F16, BF16, Q8_0) in the device layout of
// kernel_api.h, `*row_stride` bytes apart.
std::vector<std::uint8_t> dense_device_rows(const MatrixView& m, std::uint64_t* row_stride);

class CudaWeights {
 public:
  // Bytes the weights will take on the device.
  static std::uint64_t planned_bytes(const ModelConfig& config, const ModelWeights& weights);
  // Allocates and uploads with progress; throws Error(Cancelled) when control.cancel is set.
  CudaWeights(const ModelConfig& config, const ModelWeights& weights, const LoadControl& control);
  std::uint64_t bytes() const { return arena_.bytes(); }

  DenseMatrix embedding, unembedding;
  const float* final_norm = nullptr;
  std::vector<CudaLayer> layers;

 private:
  DeviceArena arena_;
};

}  // namespace ossdesk::cuda
