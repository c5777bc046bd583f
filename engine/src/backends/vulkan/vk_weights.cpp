#include "backends/vulkan/vk_weights.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "backends/vulkan/vk_check.h"
#include "ossdesk/error.h"
#include "util/half.h"

namespace ossdesk::vk {
namespace {

// Vulkan guarantees minStorageBufferOffsetAlignment <= 256.
constexpr std::uint64_t kAlign = 256;
// Weight buffers are at most this large even where the device allows more,
// so one failed allocation asks for little and the heap fragments less.
constexpr std::uint64_t kMaxWeightBuffer = 1ull << 30;
constexpr std::uint64_t kStagingSlot = 32ull << 20;

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

DenseFormat dense_format(WeightFormat f, const char* what) {
  switch (f) {
    case WeightFormat::F32: return kDenseF32;
    case WeightFormat::F16: return kDenseF16;
    case WeightFormat::BF16: return kDenseBF16;
    case WeightFormat::Q8_0: return kDenseQ8;
    default:
      fail(ErrorKind::Unsupported, std::string("vulkan: ") + what + " is stored as " + weight_format_name(f) +
                                       "; the Vulkan shaders read dense matrices as F32, F16, BF16 or Q8_0");
  }
}

// One row of an MXFP4 expert matrix, block by block, into the GPU layout.
void write_mxfp4_qs(const MatrixView& m, std::int64_t row, std::uint8_t* out) {
  const std::int64_t blocks = m.cols / 32;
  const std::uint8_t* src = m.row(row);
  for (std::int64_t b = 0; b < blocks; ++b) {
    std::uint8_t* dst = out + b * 16;
    if (m.format == WeightFormat::MXFP4_GGML) {
      std::memcpy(dst, src + b * 17 + 1, 16);
    } else {  // Hugging Face: byte j holds elements 2j (low) and 2j+1 (high)
      const std::uint8_t* hf = src + b * 16;
      auto nibble = [hf](int e) { return (hf[e / 2] >> (4 * (e % 2))) & 15; };
      for (int i = 0; i < 16; ++i) dst[i] = static_cast<std::uint8_t>(nibble(i) | (nibble(i + 16) << 4));
    }
  }
}

void write_mxfp4_scales(const MatrixView& m, std::int64_t row, std::uint8_t* out) {
  const std::int64_t blocks = m.cols / 32;
  if (m.format == WeightFormat::MXFP4_GGML) {
    const std::uint8_t* src = m.row(row);
    for (std::int64_t b = 0; b < blocks; ++b) out[b] = src[b * 17];
  } else {
    std::memcpy(out, m.row_scales(row), static_cast<std::size_t>(blocks));
  }
}

bool is_mxfp4(WeightFormat f) { return f == WeightFormat::MXFP4_GGML || f == WeightFormat::MXFP4_HF; }

// Host-visible staging buffers used in turn: while the device copies one, the
// host fills the next.
class StagingRing {
 public:
  StagingRing(const Device& device, std::uint64_t slot_bytes) : device_(device) {
    VkCommandPoolCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = device.physical().compute_queue_family;
    check(vkCreateCommandPool(device.handle(), &pi, nullptr, &pool_), "vkCreateCommandPool");
    for (Slot& s : slots_) {
      s.staging = Buffer(device, slot_bytes, MemoryKind::Staging);
      VkCommandBufferAllocateInfo ai{};
      ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
      ai.commandPool = pool_;
      ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      ai.commandBufferCount = 1;
      check(vkAllocateCommandBuffers(device.handle(), &ai, &s.cmd), "vkAllocateCommandBuffers");
      VkFenceCreateInfo fi{};
      fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
      check(vkCreateFence(device.handle(), &fi, nullptr, &s.fence), "vkCreateFence");
    }
  }
  ~StagingRing() {
    wait_all();
    for (Slot& s : slots_)
      if (s.fence) vkDestroyFence(device_.handle(), s.fence, nullptr);
    if (pool_) vkDestroyCommandPool(device_.handle(), pool_, nullptr);
  }
  StagingRing(const StagingRing&) = delete;
  StagingRing& operator=(const StagingRing&) = delete;

  std::uint64_t room() const { return current().staging.size() - current().used; }
  std::uint64_t slot_bytes() const { return current().staging.size(); }

  // Space for `bytes` that will be copied to (dst, offset).
  std::uint8_t* reserve(VkBuffer dst, std::uint64_t offset, std::uint64_t bytes) {
    Slot& s = current();
    std::uint8_t* p = static_cast<std::uint8_t*>(s.staging.mapped()) + s.used;
    if (!s.copies.empty() && s.copies.back().first == dst &&
        s.copies.back().second.dstOffset + s.copies.back().second.size == offset) {
      s.copies.back().second.size += bytes;
    } else {
      s.copies.push_back({dst, VkBufferCopy{s.used, offset, bytes}});
    }
    s.used += bytes;
    return p;
  }

  // Submits the current slot's copies and moves on to the next slot.
  void flush() {
    Slot& s = current();
    if (s.copies.empty()) return;
    check(vkResetCommandBuffer(s.cmd, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi{};
    bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(s.cmd, &bi), "vkBeginCommandBuffer");
    for (auto& [dst, region] : s.copies) vkCmdCopyBuffer(s.cmd, s.staging.handle(), dst, 1, &region);
    check(vkEndCommandBuffer(s.cmd), "vkEndCommandBuffer");
    VkSubmitInfo si{};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &s.cmd;
    check(vkResetFences(device_.handle(), 1, &s.fence), "vkResetFences");
    check(vkQueueSubmit(device_.queue(), 1, &si, s.fence), "vkQueueSubmit");
    s.in_flight = true;
    next_ = (next_ + 1) % slots_.size();
    Slot& n = current();
    if (n.in_flight) {
      check(vkWaitForFences(device_.handle(), 1, &n.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
      n.in_flight = false;
    }
    n.used = 0;
    n.copies.clear();
  }

  void wait_all() {
    for (Slot& s : slots_) {
      if (!s.in_flight) continue;
      vkWaitForFences(device_.handle(), 1, &s.fence, VK_TRUE, UINT64_MAX);
      s.in_flight = false;
    }
  }

 private:
  struct Slot {
    Buffer staging;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    bool in_flight = false;
    std::uint64_t used = 0;
    std::vector<std::pair<VkBuffer, VkBufferCopy>> copies;
  };
  Slot& current() { return slots_[next_]; }
  const Slot& current() const { return slots_[next_]; }

  const Device& device_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::array<Slot, 2> slots_;
  std::size_t next_ = 0;
};

// Tests set OSSDESK_VULKAN_MAX_BUFFER (bytes) to exercise the splitting of
// tensors and expert groups with small models.
std::uint64_t weight_buffer_limit(const Device& device) {
  std::uint64_t limit = std::min(max_storage_buffer_bytes(device), kMaxWeightBuffer);
  if (const char* cap = std::getenv("OSSDESK_VULKAN_MAX_BUFFER")) {
    const std::uint64_t v = std::strtoull(cap, nullptr, 10);
    if (v >= 4096) limit = std::min(limit, v);
  }
  return limit;
}

}  // namespace

GpuWeights::GpuWeights(const Device& device, const ModelConfig& c, const ModelWeights& w)
    : device_(device), buffer_limit_(weight_buffer_limit(device)) {
  embedding = place_matrix(w.embedding, "the token embedding");
  final_norm = place_vector(w.final_norm);
  unembedding = place_matrix(w.unembedding, "the unembedding");
  const std::uint64_t H = static_cast<std::uint64_t>(c.hidden_size);
  const std::uint64_t I = static_cast<std::uint64_t>(c.intermediate_size);
  const std::uint64_t E = static_cast<std::uint64_t>(c.num_experts);
  if (H % 32 || I % 32)
    fail(ErrorKind::Unsupported, "vulkan: hidden size and expert width must be multiples of 32 for MXFP4 experts");
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<std::size_t>(l)];
    GpuLayer g;
    g.attn_norm = place_vector(L.attn_norm);
    g.wq = place_matrix(L.wq, "attention q");
    g.wk = place_matrix(L.wk, "attention k");
    g.wv = place_matrix(L.wv, "attention v");
    g.wo = place_matrix(L.wo, "attention output");
    g.bq = place_vector(L.bq);
    g.bk = place_vector(L.bk);
    g.bv = place_vector(L.bv);
    g.bo = place_vector(L.bo);
    g.sinks = place_vector(L.sinks);
    g.mlp_norm = place_vector(L.mlp_norm);
    g.router = place_matrix(L.router, "the router");
    g.router_bias = place_vector(L.router_bias);
    for (const ExpertMatricesView* m : {&L.gate, &L.up, &L.down})
      if (!is_mxfp4(m->first.format))
        fail(ErrorKind::Unsupported, std::string("vulkan: layer ") + std::to_string(l) + " experts are stored as " +
                                         weight_format_name(m->first.format) + "; the Vulkan backend runs MXFP4 experts");
    g.gate_up_bias = place(E, 2 * I * 4, [&L, I](std::uint64_t e, std::uint8_t* out) {
      auto* f = reinterpret_cast<float*>(out);
      const VectorView gb = L.gate_bias.expert(static_cast<int>(e)), ub = L.up_bias.expert(static_cast<int>(e));
      for (std::uint64_t i = 0; i < I; ++i) {
        f[2 * i] = gb.at(static_cast<std::int64_t>(i));
        f[2 * i + 1] = ub.at(static_cast<std::int64_t>(i));
      }
    });
    g.down_bias = place(E, H * 4, [&L, H](std::uint64_t e, std::uint8_t* out) {
      auto* f = reinterpret_cast<float*>(out);
      const VectorView b = L.down_bias.expert(static_cast<int>(e));
      for (std::uint64_t i = 0; i < H; ++i) f[i] = b.at(static_cast<std::int64_t>(i));
    });
    // Whole experts per group, as many as one buffer holds.
    const std::uint64_t gate_up_bytes = 2 * I * (H / 32) * 16;
    const std::uint64_t per_group = std::max<std::uint64_t>(1, buffer_limit_ / gate_up_bytes);
    if (gate_up_bytes > buffer_limit_)
      fail(ErrorKind::Unsupported, "vulkan: one expert's weights (" + std::to_string(gate_up_bytes) +
                                       " bytes) exceed the device's largest storage buffer");
    for (std::uint64_t e0 = 0; e0 < E; e0 += per_group) {
      GpuExpertGroup grp;
      grp.e0 = static_cast<std::uint32_t>(e0);
      grp.count = static_cast<std::uint32_t>(std::min(per_group, E - e0));
      const std::uint64_t n = grp.count;
      auto gate_up_row = [&L, e0, I](std::uint64_t r, const ExpertMatricesView*& which, int& expert, std::int64_t& row) {
        const std::uint64_t local = r / (2 * I), rr = r % (2 * I);
        expert = static_cast<int>(e0 + local);
        which = rr % 2 == 0 ? &L.gate : &L.up;
        row = static_cast<std::int64_t>(rr / 2);
      };
      grp.gate_up_qs = place(n * 2 * I, (H / 32) * 16, [gate_up_row](std::uint64_t r, std::uint8_t* out) {
        const ExpertMatricesView* which;
        int e;
        std::int64_t row;
        gate_up_row(r, which, e, row);
        write_mxfp4_qs(which->expert(e), row, out);
      });
      grp.gate_up_scales = place(n * 2 * I, H / 32, [gate_up_row](std::uint64_t r, std::uint8_t* out) {
        const ExpertMatricesView* which;
        int e;
        std::int64_t row;
        gate_up_row(r, which, e, row);
        write_mxfp4_scales(which->expert(e), row, out);
      });
      grp.down_qs = place(n * H, (I / 32) * 16, [&L, e0, H](std::uint64_t r, std::uint8_t* out) {
        write_mxfp4_qs(L.down.expert(static_cast<int>(e0 + r / H)), static_cast<std::int64_t>(r % H), out);
      });
      grp.down_scales = place(n * H, I / 32, [&L, e0, H](std::uint64_t r, std::uint8_t* out) {
        write_mxfp4_scales(L.down.expert(static_cast<int>(e0 + r / H)), static_cast<std::int64_t>(r % H), out);
      });
      g.experts.push_back(grp);
    }
    layers.push_back(std::move(g));
  }
}

Slice GpuWeights::place(std::uint64_t rows, std::uint64_t row_bytes, RowWriter write) {
  const std::uint64_t bytes = align_up(rows * row_bytes, 4);
  if (bytes > buffer_limit_)
    fail(ErrorKind::Internal, "vulkan: a weight slice of " + std::to_string(bytes) + " bytes exceeds the buffer limit");
  if (sizes_.empty() || align_up(sizes_.back(), kAlign) + bytes > buffer_limit_) sizes_.push_back(0);
  Slice s;
  s.buffer = static_cast<std::uint32_t>(sizes_.size() - 1);
  s.offset = align_up(sizes_.back(), kAlign);
  s.bytes = bytes;
  sizes_.back() = s.offset + bytes;
  jobs_.push_back({s, rows, row_bytes, std::move(write)});
  return s;
}

Slice GpuWeights::place_vector(const VectorView& v) {
  return place(1, static_cast<std::uint64_t>(v.n) * 4, [v](std::uint64_t, std::uint8_t* out) {
    auto* f = reinterpret_cast<float*>(out);
    for (std::int64_t i = 0; i < v.n; ++i) f[i] = v.at(i);
  });
}

GpuMatrix GpuWeights::place_matrix(const MatrixView& m, const char* what) {
  GpuMatrix g;
  g.format = dense_format(m.format, what);
  g.rows = static_cast<std::uint32_t>(m.rows);
  g.cols = static_cast<std::uint32_t>(m.cols);
  const std::uint64_t cols = static_cast<std::uint64_t>(m.cols);
  g.row_stride = static_cast<std::uint32_t>(g.format == kDenseF32 ? cols : g.format == kDenseQ8 ? cols / 4 : (cols + 1) / 2);
  const std::uint64_t row_bytes = std::uint64_t{g.row_stride} * 4;
  const std::uint64_t rows_per_part = std::max<std::uint64_t>(1, (buffer_limit_ - kAlign) / row_bytes);
  for (std::uint64_t r0 = 0; r0 < static_cast<std::uint64_t>(m.rows); r0 += rows_per_part) {
    GpuMatrix::Part part;
    part.row0 = static_cast<std::uint32_t>(r0);
    part.rows = static_cast<std::uint32_t>(std::min(rows_per_part, static_cast<std::uint64_t>(m.rows) - r0));
    const DenseFormat format = g.format;
    part.words = place(part.rows, row_bytes, [m, r0, cols, format](std::uint64_t r, std::uint8_t* out) {
      const std::uint8_t* src = m.row(static_cast<std::int64_t>(r0 + r));
      if (format == kDenseF32) {
        std::memcpy(out, src, cols * 4);
      } else if (format == kDenseF16 || format == kDenseBF16) {
        std::memcpy(out, src, cols * 2);
        if (cols % 2) std::memset(out + cols * 2, 0, 2);
      } else {  // Q8_0: 34-byte blocks, f16 scale then 32 int8
        for (std::uint64_t b = 0; b < cols / 32; ++b) std::memcpy(out + b * 32, src + b * 34 + 2, 32);
      }
    });
    if (g.has_scales()) {
      part.scales = place(part.rows, cols / 32 * 4, [m, r0, cols](std::uint64_t r, std::uint8_t* out) {
        const std::uint8_t* src = m.row(static_cast<std::int64_t>(r0 + r));
        auto* f = reinterpret_cast<float*>(out);
        for (std::uint64_t b = 0; b < cols / 32; ++b) {
          std::uint16_t h;
          std::memcpy(&h, src + b * 34, 2);
          f[b] = f16_to_f32(h);
        }
      });
    }
    g.parts.push_back(part);
  }
  if (g.has_scales() && cols % 32)
    fail(ErrorKind::BadInput, std::string("vulkan: ") + what + " is Q8_0 with a width that is not a multiple of 32");
  return g;
}

std::uint64_t GpuWeights::bytes() const {
  std::uint64_t total = 0;
  for (std::uint64_t s : sizes_) total += s;
  return total;
}

VkDescriptorBufferInfo GpuWeights::info(const Slice& s) const {
  return {buffers_.at(s.buffer).handle(), s.offset, s.bytes};
}

void GpuWeights::upload(const LoadControl& control) {
  buffers_.clear();
  for (std::uint64_t size : sizes_) buffers_.emplace_back(device_, std::max<std::uint64_t>(size, 4), MemoryKind::DeviceLocal);
  const std::uint64_t total = std::max<std::uint64_t>(bytes(), 1);
  std::uint64_t done = 0;
  StagingRing ring(device_, std::min(kStagingSlot, align_up(total, 4)));
  auto progress = [&]() {
    if (control.cancel && control.cancel->load()) {
      ring.wait_all();
      buffers_.clear();
      fail(ErrorKind::Cancelled, "loading cancelled");
    }
    if (control.progress) control.progress(static_cast<double>(done) / static_cast<double>(total), "uploading weights");
  };
  for (const Job& job : jobs_) {
    const VkBuffer dst = buffers_[job.dst.buffer].handle();
    std::uint64_t row = 0;
    while (row < job.rows) {
      if (job.row_bytes > ring.slot_bytes()) fail(ErrorKind::Internal, "vulkan: a weight row exceeds the staging slot");
      std::uint64_t n = std::min(job.rows - row, ring.room() / std::max<std::uint64_t>(job.row_bytes, 1));
      if (n == 0) {
        ring.flush();
        progress();
        continue;
      }
      std::uint64_t bytes = n * job.row_bytes;
      // The slice's tail (rounded up to a word) belongs to the last row's copy.
      const bool last = row + n == job.rows;
      if (last) bytes = job.dst.bytes - row * job.row_bytes;
      if (bytes > ring.room()) {
        --n;
        if (n == 0) {
          ring.flush();
          progress();
          continue;
        }
        bytes = n * job.row_bytes;
      }
      std::uint8_t* out = ring.reserve(dst, job.dst.offset + row * job.row_bytes, bytes);
      std::memset(out + n * job.row_bytes, 0, bytes - n * job.row_bytes);
      for (std::uint64_t r = 0; r < n; ++r) job.write(row + r, out + r * job.row_bytes);
      row += n;
      done += bytes;
    }
    progress();  // after every tensor, so cancel is prompt even when the staging slots are large
  }
  ring.flush();
  ring.wait_all();
  if (control.progress) control.progress(1.0, "weights uploaded");
}

}  // namespace ossdesk::vk
