#include "backends/vulkan/vk_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/rope.h"
#include "backends/vulkan/vk_check.h"
#include "backends/vulkan/vk_push_constants.h"
#include "backends/vulkan/vk_sampling.h"
#include "ossdesk/error.h"

namespace ossdesk::vk {
namespace {

// Step buffer layout (uint words), written by the host before each chunk:
//   [0] position of the chunk's first token, [1] the sampled id (written by
//   argmax or sample), [4 + t] token t of the chunk, and after the batch's
//   tokens the sampling parameters of sample.comp.
constexpr std::uint32_t kStepHeader = 4;
constexpr std::uint32_t kSampleParams = 8;

constexpr std::uint32_t kDecodeRows = 4;     // matvec rows per workgroup, one token
constexpr std::uint32_t kPrefillRows = 2;    // ... with kPrefillTokens tokens per workgroup
constexpr std::uint32_t kPrefillTokens = 8;
constexpr std::uint32_t kGateUpPairs = 2;
constexpr std::uint32_t kDownRows = 2;
// Batched (prefill) experts: assignments grouped by expert in tiles.
constexpr std::uint32_t kMoeTile = 8;
constexpr std::uint32_t kGroupedPairs = 2;
constexpr std::uint32_t kGroupedDownRows = 4;
constexpr std::uint32_t kArgmaxPerGroup = 4096;

std::uint32_t u32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

constexpr std::uint32_t kPrefillKeyTile = 32;  // keys staged in shared memory per step

}  // namespace

struct VulkanBackend::Pipelines {
  std::unique_ptr<ComputePipeline> rmsnorm, rope, attention, gate_up, down, argmax0, argmax1;
  std::unique_ptr<ComputePipeline> route, gate_up_grouped, down_grouped, combine, sample;
  std::unique_ptr<ComputePipeline> attention_prefill, quantize, matvec_dot;
  std::uint32_t wg_quantize = 0;
  std::uint32_t wg_attention = 0, wg_attention_prefill = 0;
  std::uint32_t attention_group = 1;  // query heads per decode attention workgroup
  std::map<std::uint32_t, std::unique_ptr<ComputePipeline>> embed, router;  // by weight format
  std::uint32_t wg_embed = 0, wg_rope = 0, wg_combine = 0;
  std::uint32_t draw_groups = 0;  // workgroups of a draw's passes
};

VulkanBackend::VulkanBackend(const Model& model, const BackendOptions& options, const LoadControl& control)
    : config_(model.config()),
      options_(options),
      rings_(model.config(), std::max(1, options.context_length), options.max_batch > 0 ? options.max_batch : 512) {
  const ModelConfig& c = config_;
  batch_ = options.max_batch > 0 ? options.max_batch : 512;
  instance_ = std::make_shared<Instance>();
  const PhysicalDevice physical = select_device(*instance_, options);
  device_ = std::make_unique<Device>(instance_, physical);
  info_ = physical.info;
  if (c.head_dim % 2 || c.kv_dim() % 2) fail(ErrorKind::Unsupported, "vulkan: head_dim must be even");
  if (c.num_experts > 128 || c.experts_per_token > 8)
    fail(ErrorKind::Unsupported, "vulkan: the router kernel handles at most 128 experts and top-8");

  const std::uint64_t limit = max_storage_buffer_bytes(*device_);
  const std::uint64_t V = static_cast<std::uint64_t>(c.vocab_size);
  logits_rows_ = static_cast<int>(std::clamp<std::uint64_t>(limit / (V * 4), 1, static_cast<std::uint64_t>(batch_)));

  // Plan everything, then check it fits before allocating a byte.
  weights_ = std::make_unique<GpuWeights>(*device_, c, model.weights());
  std::uint64_t kv_bytes = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    const std::uint64_t layer = static_cast<std::uint64_t>(rings_.slot_count(l)) * static_cast<std::uint64_t>(c.kv_dim()) * 2;
    if (layer > limit)
      fail(ErrorKind::OutOfMemory, "vulkan: a context of " + std::to_string(rings_.capacity()) +
                                       " tokens needs " + std::to_string(layer) + "-byte KV buffers, over " +
                                       info_.name + "'s " + std::to_string(limit) + "-byte limit");
    kv_bytes += 2 * layer;
  }
  const std::uint64_t need = weights_->bytes() + kv_bytes + activation_bytes();
  const std::uint64_t have = physical.device_local_bytes;
  if (have && need > have)
    fail(ErrorKind::OutOfMemory, "the model needs " + gib_text(need) + " of device memory (weights " + gib_text(weights_->bytes()) +
                                     ", KV cache " + gib_text(kv_bytes) + ") but " + info_.name + " has " + gib_text(have));

  const auto f32 = [this](std::uint64_t n) { return Buffer(*device_, std::max<std::uint64_t>(n * 4, 4), MemoryKind::DeviceLocal); };
  const std::uint64_t B = static_cast<std::uint64_t>(batch_);
  const std::uint64_t H = static_cast<std::uint64_t>(c.hidden_size), K = static_cast<std::uint64_t>(c.experts_per_token);
  step_ = f32(kStepHeader + B + kSampleParams);
  x_ = f32(B * H);
  normed_ = f32(B * H);
  q_ = f32(B * static_cast<std::uint64_t>(c.q_dim()));
  attn_ = f32(B * static_cast<std::uint64_t>(c.q_dim()));
  k_ = f32(B * static_cast<std::uint64_t>(c.kv_dim()));
  v_ = f32(B * static_cast<std::uint64_t>(c.kv_dim()));
  choice_ = f32(B * K);
  route_weight_ = f32(B * K);
  act_ = f32(B * K * static_cast<std::uint64_t>(c.intermediate_size));
  route_ = f32(route_entry_base(batch_) + B * K);
  // Decode attention spreads one head's keys over at most kAttentionMaxSplits workgroups.
  attention_partial_ = f32(std::uint64_t{kAttentionMaxSplits} * static_cast<std::uint64_t>(c.num_heads) *
                           static_cast<std::uint64_t>(c.head_dim + 2));
  attention_arrivals_ = f32(static_cast<std::uint64_t>(c.num_heads));  // one count a head block (up to a head each)
  router_partial_ = f32(std::uint64_t{kRouterSplitTokens} * kRouterMaxSplits * static_cast<std::uint64_t>(c.num_experts));
  router_arrivals_ = f32(kRouterSplitTokens);
  expert_out_ = f32(B * K * H);
  logits_ = f32(static_cast<std::uint64_t>(logits_rows_) * V);
  partial_ = f32(2 * (V / kArgmaxPerGroup + 1));
  draw_ = Buffer(*device_, draw_scratch_bytes(), MemoryKind::DeviceLocal);
  dummy_ = f32(1);
  if (physical.integer_dot) {
    const std::uint64_t widest = static_cast<std::uint64_t>(std::max(c.hidden_size, c.q_dim()));
    x_codes_ = f32(B * widest / 4);
    x_scales_ = f32(B * widest / 32);
  }
  for (int l = 0; l < c.num_layers; ++l) {
    const std::uint64_t words = static_cast<std::uint64_t>(rings_.slot_count(l)) * static_cast<std::uint64_t>(c.kv_dim()) / 2;
    keys_.push_back(f32(words));
    values_.push_back(f32(words));
  }
  io_step_ = Buffer(*device_, (kStepHeader + B + kSampleParams) * 4, MemoryKind::Staging);
  io_logits_ = Buffer(*device_, static_cast<std::uint64_t>(logits_rows_) * V * 4, MemoryKind::Staging);

  {
    OpRunner runner(*device_);
    const cpu::YarnRope rope(c);
    inv_freq_ = f32(rope.inv_freq().size());
    runner.upload(inv_freq_, rope.inv_freq().data(), rope.inv_freq().size() * 4);
    rope_concentration_ = rope.concentration();
    // The arrival counts start at zero; each dispatch leaves them so.
    const std::vector<std::uint32_t> zeros(std::max<std::size_t>(static_cast<std::size_t>(c.num_heads), kRouterSplitTokens), 0);
    runner.upload(attention_arrivals_, zeros.data(), static_cast<std::uint64_t>(c.num_heads) * 4);
    runner.upload(router_arrivals_, zeros.data(), kRouterSplitTokens * 4);
  }

  try {  // from here on raw handles exist, and a throw must release them
    VkCommandPoolCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = physical.compute_queue_family;
    check(vkCreateCommandPool(device_->handle(), &pi, nullptr, &command_pool_), "vkCreateCommandPool");
    VkFenceCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    check(vkCreateFence(device_->handle(), &fi, nullptr, &fence_), "vkCreateFence");

    auto make = [this](const char* shader, std::uint32_t buffers, std::uint32_t push, std::vector<std::uint32_t> spec) {
      PipelineDesc d;
      d.shader = shader;
      d.buffers = buffers;
      d.push_constant_bytes = push;
      d.specialization = std::move(spec);
      return std::make_unique<ComputePipeline>(*device_, d);
    };
    pipelines_ = std::make_unique<Pipelines>();
    Pipelines& p = *pipelines_;
    p.wg_embed = device_->workgroup_size(64);
    p.wg_rope = device_->workgroup_size(64);
    p.rmsnorm = make("rmsnorm", 3, sizeof(RmsNormPush), {device_->workgroup_size(256)});
    p.rope = make("rope", 7, sizeof(RopePush), {p.wg_rope});
    const std::uint32_t wg_attn = device_->workgroup_size(128);
    if (static_cast<std::uint32_t>(c.head_dim) > 4 * wg_attn) fail(ErrorKind::Unsupported, "vulkan: head_dim too large");
    p.attention_group = attention_head_group(u32(c.num_heads / c.num_kv_heads));
    p.attention = make("attention", 8, sizeof(AttentionPush),
                       {wg_attn, static_cast<std::uint32_t>(c.head_dim), p.attention_group});
    p.wg_attention = wg_attn;
    // One query row per invocation; q and the output accumulator sit in registers.
    if (c.head_dim > 256) fail(ErrorKind::Unsupported, "vulkan: head_dim above 256");
    p.wg_attention_prefill = device_->workgroup_size(64);
    p.attention_prefill = make("attention_prefill", 6, sizeof(PrefillAttentionPush),
                               {p.wg_attention_prefill, static_cast<std::uint32_t>(c.head_dim), kPrefillKeyTile});
    for (const GpuLayer& L : weights_->layers) {
      if (L.router.parts.size() != 1)
        fail(ErrorKind::Unsupported, "vulkan: the router matrix must fit one storage buffer");
      auto& slot = p.router[L.router.format];
      // A workgroup reads its whole share of the matrix (all of it, past the
      // split chunks): the more invocations, the more loads in flight at once.
      if (!slot) slot = make("router_topk", 10, sizeof(RouterPush), {device_->workgroup_size(1024), L.router.format});
    }
    p.gate_up = make("moe_gate_up", 6, sizeof(GateUpPush), {device_->workgroup_size(32), kGateUpPairs});
    p.down = make("moe_down", 7, sizeof(DownPush), {device_->workgroup_size(32), kDownRows});
    p.wg_combine = device_->workgroup_size(256);
    p.route = make("moe_route", 2, sizeof(RoutePush), {device_->workgroup_size(256), kMoeTile});
    p.gate_up_grouped = make("moe_gate_up_grouped", 6, sizeof(GateUpGroupedPush),
                             {device_->workgroup_size(32), kGroupedPairs, kMoeTile});
    p.down_grouped = make("moe_down_grouped", 7, sizeof(DownGroupedPush),
                          {device_->workgroup_size(32), kGroupedDownRows, kMoeTile});
    p.combine = make("moe_combine", 2, sizeof(CombinePush), {p.wg_combine});
    p.argmax0 = make("argmax", 3, sizeof(ArgmaxPush), {device_->workgroup_size(256), 0});
    p.argmax1 = make("argmax", 3, sizeof(ArgmaxPush), {device_->workgroup_size(256), 1});
    const std::uint32_t wg_sample = device_->workgroup_size(kDrawWorkgroupSize);
    p.sample = make("sample", 3, sizeof(DrawPush), {wg_sample});
    p.draw_groups = draw_groups(u32(c.vocab_size), wg_sample);
    if (physical.integer_dot) {
      p.wg_quantize = device_->workgroup_size(64);
      p.quantize = make("quantize_q8", 3, sizeof(QuantizePush), {p.wg_quantize});
      p.matvec_dot = make("matvec_q8_dot", 6, sizeof(MatvecDotPush),
                          {device_->workgroup_size(64), kPrefillRows, kPrefillTokens});
    }
    p.embed[weights_->embedding.format] = make("embed", 4, sizeof(EmbedPush), {p.wg_embed, 0, weights_->embedding.format});

    weights_->upload(control);
  } catch (...) {
    release();  // e.g. a cancelled upload: the destructor will not run
    throw;
  }
}

VulkanBackend::~VulkanBackend() { release(); }

void VulkanBackend::release() {
  if (!device_) return;
  vkDeviceWaitIdle(device_->handle());
  recordings_.clear();
  if (fence_) vkDestroyFence(device_->handle(), fence_, nullptr);
  if (command_pool_) vkDestroyCommandPool(device_->handle(), command_pool_, nullptr);
  fence_ = VK_NULL_HANDLE;
  command_pool_ = VK_NULL_HANDLE;
}

std::uint64_t VulkanBackend::activation_bytes() const {
  const ModelConfig& c = config_;
  const std::uint64_t B = static_cast<std::uint64_t>(batch_);
  const std::uint64_t per_token = 2 * static_cast<std::uint64_t>(c.hidden_size) + 2 * static_cast<std::uint64_t>(c.q_dim()) +
                                  2 * static_cast<std::uint64_t>(c.kv_dim()) +
                                  2 * static_cast<std::uint64_t>(c.experts_per_token) +
                                  static_cast<std::uint64_t>(c.experts_per_token) * static_cast<std::uint64_t>(c.intermediate_size);
  const std::uint64_t experts_out = B * static_cast<std::uint64_t>(c.experts_per_token) * static_cast<std::uint64_t>(c.hidden_size);
  return 4 * (B * per_token + experts_out + route_entry_base(batch_) +
              static_cast<std::uint64_t>(logits_rows_) * static_cast<std::uint64_t>(c.vocab_size));
}

// Routing table layout (common/moe_route.glsl) for a chunk of `tokens`: the
// tiles first, then the assignments grouped by expert.
std::uint32_t VulkanBackend::max_tiles(int tokens) const {
  return max_route_tiles(static_cast<std::uint64_t>(tokens) * static_cast<std::uint64_t>(config_.experts_per_token),
                         u32(config_.num_experts), kMoeTile);
}
std::uint32_t VulkanBackend::route_entry_base(int tokens) const { return vk::route_entry_base(max_tiles(tokens)); }

const ComputePipeline& VulkanBackend::matvec_pipeline(std::uint32_t format, bool batched, std::uint32_t epilogue) {
  auto& slot = matvec_pipelines_[{format, batched, epilogue}];
  if (!slot) {
    PipelineDesc d;
    d.shader = "matvec";
    d.buffers = 9;
    d.push_constant_bytes = sizeof(MatvecPush);
    d.specialization = {device_->workgroup_size(batched ? 64 : 128), batched ? kPrefillRows : kDecodeRows, format,
                        batched ? kPrefillTokens : 1, epilogue};
    slot = std::make_unique<ComputePipeline>(*device_, d);
  }
  return *slot;
}

// Decode reads each weight once per token and is bound by those bytes, which
// integer arithmetic does not reduce (and quantizing costs a pass and a
// barrier); prefill reuses each weight word for kPrefillTokens tokens and is
// bound by arithmetic, where four int8 products per instruction pay.
bool VulkanBackend::uses_int8_dot(const GpuMatrix& m, int tokens) const {
  return tokens > 1 && m.format == kDenseQ8 && pipelines_->matvec_dot && m.cols % 32 == 0;
}

VkDescriptorBufferInfo VulkanBackend::scales_of(const GpuMatrix& m, const GpuMatrix::Part& part) const {
  return m.has_scales() ? weights_->info(part.scales) : whole(dummy_);
}

void VulkanBackend::quantize_input(Recording& r, std::initializer_list<const GpuMatrix*> consumers, const Buffer& x,
                                   std::uint32_t x_offset, std::uint32_t cols, int tokens) {
  bool needed = false;
  for (const GpuMatrix* m : consumers) needed = needed || uses_int8_dot(*m, tokens);
  if (!needed) return;
  const std::uint32_t blocks = u32(tokens) * cols / 32;
  r.dispatch(*pipelines_->quantize, {whole(x), whole(x_codes_), whole(x_scales_)}, QuantizePush{blocks, x_offset},
             flat_groups(*device_, div_up(blocks, pipelines_->wg_quantize)));
  r.barrier();
}

// The epilogue's workgroups take four rows (kDecodeRows) of one token.
static_assert(kDecodeRows == 4, "matvec.comp's RoPE epilogue takes four rows a workgroup");
bool VulkanBackend::fuses_rope(const GpuLayer& L, int tokens) const {
  if (tokens != 1 || config_.head_dim % 4 != 0) return false;  // one token: never the int8-dot products
  for (const GpuMatrix* m : {&L.wq, &L.wk, &L.wv})
    if (m->parts.size() != 1) return false;
  return L.wk.parts.front().rows == L.wv.parts.front().rows;
}

void VulkanBackend::matvec(Recording& r, const GpuMatrix& m, const Buffer& x, std::uint32_t x_offset, const Slice* bias,
                           const Buffer& y, std::uint32_t y_stride, int tokens, bool accumulate, const Slice* norm,
                           const RopeEpilogue* rope) {
  const bool batched = tokens > 1;
  if (uses_int8_dot(m, tokens)) {  // x was quantized by quantize_input() just before
    if (norm || rope) fail(ErrorKind::Internal, "vulkan: the int8-dot product takes a normed input and has no epilogue");
    const VkDescriptorBufferInfo bias_info = bias ? weights_->info(*bias) : whole(dummy_);
    for (const GpuMatrix::Part& part : m.parts) {
      const MatvecDotPush push{part.rows, m.cols, m.row_stride, part.row0, y_stride, u32(tokens),
                               (bias ? 1u : 0u) | (accumulate ? 2u : 0u)};
      r.dispatch(*pipelines_->matvec_dot,
                 {weights_->info(part.words), weights_->info(part.scales), whole(x_codes_), whole(x_scales_), bias_info,
                  whole(y)},
                 push, flat_groups(*device_, div_up(part.rows, kPrefillRows), div_up(u32(tokens), kPrefillTokens)));
    }
    return;
  }
  if (rope && (batched || m.parts.size() != 1)) fail(ErrorKind::Internal, "vulkan: the RoPE epilogue takes one token and one part");
  const ComputePipeline& pipe = matvec_pipeline(m.format, batched, rope ? rope->kind : 0);
  const std::uint32_t rows_per_group = batched ? kPrefillRows : kDecodeRows;
  const std::uint32_t tokens_per_group = batched ? kPrefillTokens : 1;
  const VkDescriptorBufferInfo bias_info = bias ? weights_->info(*bias) : whole(dummy_);
  for (const GpuMatrix::Part& part : m.parts) {
    const MatvecPush push{part.rows,
                          m.cols,
                          m.row_stride,
                          part.row0,
                          y_stride,
                          x_offset,
                          u32(tokens),
                          (bias ? 1u : 0u) | (accumulate ? 2u : 0u) | (norm ? 4u : 0u),
                          static_cast<float>(config_.rms_norm_eps),
                          u32(config_.head_dim / 2),
                          rope_concentration_,
                          rope ? rope->ring : 0u};
    const VkDescriptorBufferInfo scales = scales_of(m, part);
    const VkDescriptorBufferInfo norm_info = norm ? weights_->info(*norm) : whole(dummy_);
    // Without a cache to append to, the writable cache binding takes the
    // output, which the dispatch writes anyway: bound to the shared dummy, it
    // would count as a write the next dispatch's reads of the dummy race with
    // (the validation layer's synchronization check says so).
    const VkDescriptorBufferInfo cache = rope && rope->cache ? whole(*rope->cache) : whole(y);
    r.dispatch(pipe,
               {weights_->info(part.words), scales, whole(x), bias_info, whole(y), norm_info, whole(inv_freq_),
                whole(step_), cache},
               push,
               flat_groups(*device_, div_up(part.rows, rows_per_group), div_up(u32(tokens), tokens_per_group)));
  }
}

void VulkanBackend::record(Recording& r, int tokens, LogitsMode mode, Pick pick) {
  const ModelConfig& c = config_;
  const Pipelines& p = *pipelines_;
  const GpuWeights& w = *weights_;
  const std::uint32_t T = u32(tokens), H = u32(c.hidden_size), Q = u32(c.q_dim()), KV = u32(c.kv_dim());
  const std::uint32_t E = u32(c.num_experts), K = u32(c.experts_per_token), I = u32(c.intermediate_size);
  const std::uint32_t V = u32(c.vocab_size);
  const float eps = static_cast<float>(c.rms_norm_eps);

  const std::uint32_t params = kStepHeader + u32(batch_);
  r.copy(io_step_.handle(), 0, step_.handle(), 0, (kStepHeader + T) * 4);
  if (is_draw(pick)) r.copy(io_step_.handle(), params * 4, step_.handle(), params * 4, kSampleParams * 4);
  r.barrier();
  for (const GpuMatrix::Part& part : w.embedding.parts) {
    const EmbedPush push{part.rows, part.row0, w.embedding.cols, w.embedding.row_stride};
    const VkDescriptorBufferInfo scales = scales_of(w.embedding, part);
    r.dispatch(*p.embed.at(w.embedding.format), {whole(step_), w.info(part.words), scales, whole(x_)}, push,
               GroupCount{div_up(w.embedding.row_stride, p.wg_embed), 1, T});
  }
  r.barrier();
  r.mark("embed");

  for (int l = 0; l < c.num_layers; ++l) {
    const GpuLayer& L = w.layers[static_cast<std::size_t>(l)];
    const std::uint32_t ring = u32(rings_.ring(l));
    const std::uint32_t window = c.layer_is_sliding[static_cast<std::size_t>(l)] ? u32(c.sliding_window) : 0;

    const bool fused_rope = fuses_rope(L, tokens);
    if (fused_rope) {  // decode: the norm, RoPE and the KV append all inside the products
      const RopeEpilogue q_rope{1, nullptr, ring}, k_rope{2, &keys_[l], ring}, v_rope{3, &values_[l], ring};
      matvec(r, L.wq, x_, 0, &L.bq, q_, Q, tokens, false, &L.attn_norm, &q_rope);
      matvec(r, L.wk, x_, 0, &L.bk, k_, KV, tokens, false, &L.attn_norm, &k_rope);
      matvec(r, L.wv, x_, 0, &L.bv, v_, KV, tokens, false, &L.attn_norm, &v_rope);
    } else if (uses_int8_dot(L.wq, tokens)) {  // the products quantize the normed row first
      r.dispatch(*p.rmsnorm, {whole(x_), w.info(L.attn_norm), whole(normed_)}, RmsNormPush{H, T, eps},
                 flat_groups(*device_, T));
      r.barrier();
      quantize_input(r, {&L.wq, &L.wk, &L.wv}, normed_, 0, H, tokens);
      matvec(r, L.wq, normed_, 0, &L.bq, q_, Q, tokens, false);
      matvec(r, L.wk, normed_, 0, &L.bk, k_, KV, tokens, false);
      matvec(r, L.wv, normed_, 0, &L.bv, v_, KV, tokens, false);
    } else {  // the attention norm taken inside each product: no dispatch or barrier of its own
      matvec(r, L.wq, x_, 0, &L.bq, q_, Q, tokens, false, &L.attn_norm);
      matvec(r, L.wk, x_, 0, &L.bk, k_, KV, tokens, false, &L.attn_norm);
      matvec(r, L.wv, x_, 0, &L.bv, v_, KV, tokens, false, &L.attn_norm);
    }
    r.barrier();
    if (fused_rope) {
      r.mark("attn_norm+qkv+rope+kv_write");
    } else {
      r.mark("attn_norm+qkv");
      const std::uint32_t half = u32(c.head_dim / 2);
      // q rotated in place; k rotated and v copied into the layer's cache, one dispatch
      r.dispatch(*p.rope,
                 {whole(q_), whole(k_), whole(inv_freq_), whole(step_), whole(v_), whole(keys_[l]), whole(values_[l])},
                 RopePush{u32(c.num_heads), u32(c.num_kv_heads), half, rope_concentration_, ring},
                 flat_groups(*device_, div_up(static_cast<std::uint64_t>(c.num_heads + c.num_kv_heads) * half, p.wg_rope), T));
      r.barrier();
      r.mark("rope+kv_write");
    }

    const float attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
    if (T == 1) {  // decode: the keys split over workgroups, then combined with the sink
      const std::uint64_t keys = window ? std::min<std::uint64_t>(window, u32(rings_.capacity())) : u32(rings_.capacity());
      // One workgroup a chunk of keys up to kAttentionMaxSplits; the shader
      // cuts the keys in view at each step into that many runs, and the last
      // run of a head block to finish folds them with the sinks.
      const std::uint32_t splits = std::min(div_up(keys, std::uint64_t{p.wg_attention}), kAttentionMaxSplits);
      r.dispatch(*p.attention,
                 {whole(step_), whole(q_), whole(keys_[l]), whole(values_[l]), w.info(L.sinks), whole(attn_),
                  whole(attention_partial_), whole(attention_arrivals_)},
                 AttentionPush{u32(c.num_heads), u32(c.num_kv_heads), window, ring, attn_scale, 1, splits},
                 GroupCount{u32(c.num_heads) / p.attention_group, splits, 1});
    } else {  // prefill: tiles of keys staged once for a block of query rows
      const std::uint32_t rows = T * u32(c.num_heads / c.num_kv_heads);
      r.dispatch(*p.attention_prefill,
                 {whole(step_), whole(q_), whole(keys_[l]), whole(values_[l]), w.info(L.sinks), whole(attn_)},
                 PrefillAttentionPush{u32(c.num_heads), u32(c.num_kv_heads), window, ring, attn_scale, T},
                 GroupCount{u32(c.num_kv_heads), div_up(rows, p.wg_attention_prefill), 1});
    }
    r.barrier();
    r.mark("attention");

    quantize_input(r, {&L.wo}, attn_, 0, Q, tokens);
    matvec(r, L.wo, attn_, 0, &L.bo, x_, H, tokens, true);
    r.barrier();
    r.mark("attn_out+residual");

    {  // the MLP norm is fused into the router, which writes normed_ for the experts
      const GpuMatrix::Part& part = L.router.parts.front();
      const VkDescriptorBufferInfo scales = scales_of(L.router, part);
      // Decode spreads a token's logits over column slices, not one workgroup.
      const RouterSplit split = router_split(L.router.cols, T);
      r.dispatch(*p.router.at(L.router.format),
                 {w.info(part.words), scales, whole(x_), w.info(L.router_bias), whole(choice_), whole(route_weight_),
                  w.info(L.mlp_norm), whole(normed_), whole(router_partial_), whole(router_arrivals_)},
                 RouterPush{E, K, T, L.router.cols, L.router.row_stride, eps, split.width, split.splits},
                 split.splits > 1 ? GroupCount{split.splits, T, 1} : flat_groups(*device_, T));
    }
    r.barrier();
    r.mark("moe_norm+router");

    const float limit = static_cast<float>(c.swiglu_limit);
    if (T == 1) {  // decode: the token's k experts, fused down + weighted sum + residual
      for (const GpuExpertGroup& g : L.experts)
        r.dispatch(*p.gate_up,
                   {whole(choice_), w.info(g.gate_up_qs), w.info(g.gate_up_scales), whole(normed_),
                    w.info(L.gate_up_bias), whole(act_)},
                   GateUpPush{H, I, K, g.e0, g.count, limit}, GroupCount{div_up(I, kGateUpPairs), K, T});
      r.barrier();
      r.mark("moe_gate_up");
      for (const GpuExpertGroup& g : L.experts) {
        r.dispatch(*p.down,
                   {whole(choice_), whole(route_weight_), w.info(g.down_qs), w.info(g.down_scales), whole(act_),
                    w.info(L.down_bias), whole(x_)},
                   DownPush{H, I, K, g.e0, g.count}, flat_groups(*device_, div_up(H, kDownRows), T));
        r.barrier();  // the groups add into the same residual rows
      }
    } else {  // prefill: assignments grouped by expert, each tile reads its expert's weights once
      const std::uint32_t entry_base = route_entry_base(tokens);
      const std::uint32_t tiles = max_tiles(tokens);
      r.dispatch(*p.route, {whole(choice_), whole(route_)}, RoutePush{T * K, E, entry_base}, GroupCount{1, 1, 1});
      r.barrier();
      for (const GpuExpertGroup& g : L.experts)
        r.dispatch(*p.gate_up_grouped,
                   {whole(route_), w.info(g.gate_up_qs), w.info(g.gate_up_scales), whole(normed_),
                    w.info(L.gate_up_bias), whole(act_)},
                   GateUpGroupedPush{H, I, K, g.e0, g.count, limit, entry_base},
                   GroupCount{div_up(I, kGroupedPairs), tiles, 1});
      r.barrier();
      r.mark("moe_gate_up");
      for (const GpuExpertGroup& g : L.experts)
        r.dispatch(*p.down_grouped,
                   {whole(route_), whole(route_weight_), w.info(g.down_qs), w.info(g.down_scales), whole(act_),
                    w.info(L.down_bias), whole(expert_out_)},
                   DownGroupedPush{H, I, K, g.e0, g.count, entry_base},
                   GroupCount{div_up(H, kGroupedDownRows), tiles, 1});
      r.barrier();
      r.dispatch(*p.combine, {whole(expert_out_), whole(x_)}, CombinePush{H, K, T},
                 flat_groups(*device_, div_up(std::uint64_t{T} * H, p.wg_combine)));
      r.barrier();
    }
    r.mark("moe_down+residual");
  }

  if (mode == LogitsMode::None && pick == Pick::None) {
    r.finish();
    return;
  }
  const std::uint32_t rows = mode == LogitsMode::All ? T : 1;
  const std::uint32_t first = T - rows;
  // The final norm stays a dispatch of its own: one barrier a token, where
  // the unembedding's ~50000 workgroups would each redo the sum of squares.
  r.dispatch(*p.rmsnorm, {whole(x_), w.info(w.final_norm), whole(normed_)}, RmsNormPush{H, T, eps}, flat_groups(*device_, T));
  r.barrier();
  quantize_input(r, {&w.unembedding}, normed_, first * H, H, static_cast<int>(rows));
  matvec(r, w.unembedding, normed_, first * H, nullptr, logits_, V, static_cast<int>(rows), false);
  r.barrier();
  r.mark("final_norm+unembed");
  // The logits go to the host (when asked) and to the picker; both only read them.
  if (mode != LogitsMode::None) r.copy(logits_.handle(), 0, io_logits_.handle(), 0, std::uint64_t{rows} * V * 4);
  const std::uint32_t last_row = (rows - 1) * V;
  if (pick == Pick::Argmax) {
    const std::uint32_t groups = div_up(V, kArgmaxPerGroup);
    r.dispatch(*p.argmax0, {whole(logits_), whole(partial_), whole(step_)}, ArgmaxPush{V, kArgmaxPerGroup, last_row},
               GroupCount{groups, 1, 1});
    r.barrier();
    r.dispatch(*p.argmax1, {whole(logits_), whole(partial_), whole(step_)}, ArgmaxPush{groups, 0, 0}, GroupCount{1, 1, 1});
  } else if (is_draw(pick)) {
    const bool top_k = pick == Pick::DrawTopK || pick == Pick::DrawTopKTopP;
    const bool top_p = pick == Pick::DrawTopP || pick == Pick::DrawTopKTopP;
    const std::vector<DrawPush> passes = draw_passes(V, last_row, params, p.draw_groups, top_k, top_p);
    for (const DrawPush& pass : passes) {
      if (&pass != &passes.front()) r.barrier();
      r.dispatch(*p.sample, {whole(logits_), whole(step_), whole(draw_)}, pass, draw_pass_groups(pass));
    }
  }
  if (pick != Pick::None) {
    r.barrier();
    r.copy(step_.handle(), 0, io_step_.handle(), 0, kStepHeader * 4);
    r.mark("sample");
  }
  r.finish();
}

Recording& VulkanBackend::recording(int tokens, LogitsMode mode, Pick pick) {
  const auto key = std::make_tuple(tokens, static_cast<int>(mode), pick);
  auto it = recordings_.find(key);
  if (it != recordings_.end()) return *it->second;
  // Prefill chunks of odd sizes come and go; keep the cache small.
  if (recordings_.size() >= 8) recordings_.clear();
  std::uint32_t groups = 0;
  for (const GpuLayer& L : weights_->layers) groups += u32(L.experts.size());
  const std::uint32_t parts = u32(weights_->embedding.parts.size() + weights_->unembedding.parts.size());
  const std::uint32_t dense_parts = 16;  // q/k/v/o/router parts per layer, generously
  const std::uint32_t max_dispatches = 24 + kMaxDrawDispatches + parts + u32(config_.num_layers) * (16 + dense_parts) + 2 * groups;
  auto rec = std::make_unique<Recording>(*device_, command_pool_, max_dispatches, options_.profile);
  record(*rec, tokens, mode, pick);
  return *recordings_.emplace(key, std::move(rec)).first->second;
}

TokenId VulkanBackend::run_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits, Pick pick) {
  auto* io = static_cast<std::uint32_t*>(io_step_.mapped());
  io[0] = static_cast<std::uint32_t>(rings_.position());
  io[1] = 0;
  for (std::size_t t = 0; t < tokens.size(); ++t) io[kStepHeader + t] = static_cast<std::uint32_t>(tokens[t]);
  Recording& r = recording(static_cast<int>(tokens.size()), mode, pick);
  r.submit_and_wait(fence_);
  if (options_.profile) r.add_timings(profile_);
  rings_.set_position(rings_.position() + static_cast<int>(tokens.size()));
  if (mode != LogitsMode::None && logits) {
    const std::size_t rows = mode == LogitsMode::All ? tokens.size() : 1;
    std::memcpy(logits, io_logits_.mapped(), rows * static_cast<std::size_t>(config_.vocab_size) * 4);
  }
  return pick != Pick::None ? static_cast<TokenId>(io[1]) : -1;
}

void VulkanBackend::forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) {
  if (tokens.empty()) return;
  check_forward_input(*this, tokens);
  // All logits come back in chunks no larger than the logits buffer.
  const int chunk = mode == LogitsMode::All ? std::min(batch_, logits_rows_) : batch_;
  forward_in_chunks(tokens, mode, logits, static_cast<std::size_t>(chunk), static_cast<std::size_t>(config_.vocab_size),
                    [this](std::span<const TokenId> part, LogitsMode m, float* out) { run_chunk(part, m, out, Pick::None); });
}

TokenId VulkanBackend::forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) {
  if (tokens.empty()) return Backend::forward_and_sample(tokens, params, state);
  check_forward_input(*this, tokens);
  // The token is picked on the device: argmax when greedy, else a draw with
  // the host's filter rules and one uniform from the host's generator, taken
  // exactly as the host sampler takes it, so a seed means the same on both.
  Pick pick = Pick::Argmax;
  if (params.temperature > 0.0f) {
    // Each filter in use adds its passes, so a draw records only those.
    const bool top_k = params.top_k > 0, top_p = params.top_p < 1.0f;
    pick = top_k ? (top_p ? Pick::DrawTopKTopP : Pick::DrawTopK) : (top_p ? Pick::DrawTopP : Pick::Draw);
    const auto words = draw_param_words(params, static_cast<float>(state.next_unit()));
    std::memcpy(static_cast<std::uint32_t*>(io_step_.mapped()) + kStepHeader + batch_, words.data(), sizeof words);
  }
  TokenId id = -1;
  // The last chunk (the one asked for Last) picks instead of returning logits.
  forward_in_chunks(tokens, LogitsMode::Last, nullptr, static_cast<std::size_t>(batch_),
                    static_cast<std::size_t>(config_.vocab_size), [this, &id, pick](std::span<const TokenId> part, LogitsMode m, float*) {
                      const bool last = m == LogitsMode::Last;
                      const TokenId got = run_chunk(part, LogitsMode::None, nullptr, last ? pick : Pick::None);
                      if (last) id = got;
                    });
  return id;
}

void VulkanBackend::copy_rings(bool to_checkpoint) {
  OpRunner runner(*device_);
  for (int l = 0; l < config_.num_layers; ++l) {
    if (!rings_.ring(l)) continue;
    const std::size_t i = static_cast<std::size_t>(l);
    if (to_checkpoint) {
      runner.copy(keys_[i], checkpoint_keys_[i], keys_[i].size());
      runner.copy(values_[i], checkpoint_values_[i], values_[i].size());
    } else {
      runner.copy(checkpoint_keys_[i], keys_[i], keys_[i].size());
      runner.copy(checkpoint_values_[i], values_[i], values_[i].size());
    }
  }
}

void VulkanBackend::checkpoint() {
  if (rings_.any_ring()) {
    if (checkpoint_keys_.empty()) {
      for (int l = 0; l < config_.num_layers; ++l) {
        const std::size_t i = static_cast<std::size_t>(l);
        const std::uint64_t bytes = rings_.ring(l) ? keys_[i].size() : 4;
        checkpoint_keys_.emplace_back(*device_, bytes, MemoryKind::DeviceLocal);
        checkpoint_values_.emplace_back(*device_, bytes, MemoryKind::DeviceLocal);
      }
    }
    copy_rings(true);
  }
  rings_.checkpoint();
}

int VulkanBackend::truncate(int n) {
  const KvRings::Rollback r = rings_.truncate(n);
  if (r.restore_checkpoint) copy_rings(false);
  return r.kept;
}

std::uint64_t VulkanBackend::device_memory_bytes() const {
  std::uint64_t total = weights_->bytes();
  for (const Buffer* b : {&step_, &x_, &normed_, &q_, &k_, &v_, &attn_, &choice_, &route_weight_, &act_, &logits_,
                          &partial_, &draw_, &route_, &expert_out_, &attention_partial_, &attention_arrivals_,
                          &router_partial_, &router_arrivals_, &inv_freq_, &dummy_, &x_codes_, &x_scales_})
    total += b->size();
  for (const auto* list : {&keys_, &values_, &checkpoint_keys_, &checkpoint_values_})
    for (const Buffer& b : *list) total += b.size();
  return total;
}

std::vector<OpTiming> VulkanBackend::take_profile() {
  std::vector<OpTiming> out;
  out.swap(profile_);
  return out;
}

}  // namespace ossdesk::vk
