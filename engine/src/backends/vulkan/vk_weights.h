// The model's weights on a Vulkan device: the GPU layouts the shaders read,
// where each tensor lives, and the upload.
//
// Layouts (what the shaders in shaders/common/{dense,mxfp4}.glsl expect):
//  - dense matrices keep their precision: F32, F16 and BF16 rows as 32-bit
//    words; GGUF Q8_0 split into int8 rows plus one float scale per 32 values
//    (its 34-byte blocks are not word aligned);
//  - MXFP4 experts (Hugging Face or GGUF packing) as 16-byte blocks with the
//    GGUF nibble order plus a separate array of E8M0 scale bytes; gate and up
//    rows interleaved (2i = gate, 2i+1 = up) so one workgroup makes both halves
//    of an activation;
//  - norms, biases and sinks as float32.
// Every storage buffer stays under the device's binding limit: tensors are
// packed into buffers of at most that size, a dense matrix too large for one
// (the 201088-row embedding on lavapipe) is split into row parts, and a layer's
// experts into groups of whole experts. The plan is made first, so the memory
// needed is known before anything is allocated.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/vk_device.h"
#include "backends/vulkan/vk_memory.h"
#include "model/weights.h"

namespace ossdesk::vk {

// A range of one of the weight buffers.
struct Slice {
  std::uint32_t buffer = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

// The FORMAT codes of shaders/common/dense.glsl (the dense shaders'
// specialization constant), which the matrices are uploaded in.
enum DenseFormat : std::uint32_t { kDenseF32 = 0, kDenseF16 = 1, kDenseBF16 = 2, kDenseQ8 = 3 };

struct GpuMatrix {
  DenseFormat format = kDenseF32;  // Q8 rows have a separate scale array
  std::uint32_t rows = 0, cols = 0;
  std::uint32_t row_stride = 0;  // words
  struct Part {
    std::uint32_t row0 = 0, rows = 0;
    Slice words, scales;  // scales: Q8 only
  };
  std::vector<Part> parts;

  bool has_scales() const { return format == kDenseQ8; }
};

struct GpuExpertGroup {
  std::uint32_t e0 = 0, count = 0;
  Slice gate_up_qs, gate_up_scales, down_qs, down_scales;
};

struct GpuLayer {
  Slice attn_norm, bq, bk, bv, bo, sinks, mlp_norm, router_bias;
  Slice gate_up_bias;  // [experts x 2*inter], interleaved like the rows
  Slice down_bias;     // [experts x hidden]
  GpuMatrix wq, wk, wv, wo, router;
  std::vector<GpuExpertGroup> experts;
};

class GpuWeights {
 public:
  // Plans the layout; throws Error(Unsupported) for a tensor format the
  // shaders do not read. Allocates nothing.
  GpuWeights(const Device& device, const ModelConfig& config, const ModelWeights& weights);

  std::uint64_t bytes() const;  // device memory the weights take
  // Allocates the buffers and fills them through a staging ring, reporting
  // progress and stopping with Error(Cancelled) when asked.
  void upload(const LoadControl& control);

  VkDescriptorBufferInfo info(const Slice& s) const;

  GpuMatrix embedding, unembedding;
  Slice final_norm;
  std::vector<GpuLayer> layers;

 private:
  // Fills `rows` rows of `row_bytes` each into the staging memory.
  using RowWriter = std::function<void(std::uint64_t row, std::uint8_t* out)>;
  Slice place(std::uint64_t rows, std::uint64_t row_bytes, RowWriter write);
  Slice place_vector(const VectorView& v);
  GpuMatrix place_matrix(const MatrixView& m, const char* what);

  struct Job {
    Slice dst;
    std::uint64_t rows = 0, row_bytes = 0;
    RowWriter write;
  };
  const Device& device_;
  std::uint64_t buffer_limit_;
  std::vector<std::uint64_t> sizes_;  // planned bytes per buffer
  std::vector<Job> jobs_;
  std::vector<Buffer> buffers_;
};

}  // namespace ossdesk::vk
