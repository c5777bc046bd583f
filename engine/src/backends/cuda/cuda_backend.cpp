#include "backends/cuda/cuda_backend.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/rope.h"
#include "backends/cuda/cuda_arch.h"
#include "backends/cuda/cuda_check.h"

namespace ossdesk::cuda {
namespace {

constexpr int kMaxLogitsRows = 64;  // All-mode chunks return at most this many rows of logits
// Chunks of at least this many tokens multiply on tensor cores (gemm(), the
// grouped experts); fewer run the matrix-vector kernels, which read each
// weight once per token and waste nothing on padding.
constexpr int kTensorCoreMinTokens = 16;

// Whether environment variable `name` is set to `value` (the switches of engine/README.md).
bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}


// The device BackendOptions asks for: an index, a name substring, or the one with the most memory.
int choose_device(const BackendOptions& o, cudaDeviceProp* chosen) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0)
    fail(ErrorKind::Unsupported, std::string("cuda: no usable CUDA device (") +
                                     (status != cudaSuccess ? cudaGetErrorString(status) : "none found") + ")");
  int best = -1;
  std::string cannot_run;  // the devices asked for (or all, for none asked) that the kernels do not run on
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, i), "cudaGetDeviceProperties");
    bool wanted = true;
    if (o.device_index >= 0) wanted = i == o.device_index;
    else if (!o.device_name.empty()) wanted = best < 0 && std::string(p.name).find(o.device_name) != std::string::npos;
    if (!wanted) continue;
    if (const std::string why = kernels_cannot_run_on(p); !why.empty()) {
      cannot_run += (cannot_run.empty() ? "" : "; ") + why;
      continue;
    }
    if (best < 0 || o.device_index >= 0 || !o.device_name.empty() || p.totalGlobalMem > chosen->totalGlobalMem)
      best = i, *chosen = p;
  }
  if (best < 0 && !cannot_run.empty()) fail(ErrorKind::Unsupported, "cuda: " + cannot_run);
  if (best < 0)
    fail(ErrorKind::Unsupported, "cuda: no CUDA device matches " +
                                     (o.device_index >= 0 ? "index " + std::to_string(o.device_index) : "'" + o.device_name + "'") +
                                     " (" + std::to_string(count) + " found)");
  return best;
}

}  // namespace

std::uint64_t peak_memory_bandwidth(int device) {
  int clock_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess) {
    cudaGetLastError();  // not sticky, but leave nothing behind for the next check
    return 0;
  }
  return 2ull * static_cast<std::uint64_t>(clock_khz) * 1000ull * static_cast<std::uint64_t>(bus_bits) / 8ull;
}

std::string kernels_cannot_run_on(const cudaDeviceProp& device) {
  if (kernels_run_on(OSSDESK_CUDA_KERNEL_ARCHS, device.major, device.minor)) return {};
  return std::string(device.name) + " (" +
         kernels_do_not_run_because(OSSDESK_CUDA_KERNEL_ARCHS, device.major, device.minor) + ")";
}

CudaBackend::CudaBackend(const Model& model, const BackendOptions& options, const LoadControl& control)
    : config_(model.config()),
      options_(options),
      rings_(model.config(), std::max(1, options.context_length), options.max_batch > 0 ? options.max_batch : 512) {
  const ModelConfig& c = config_;
  batch_ = options.max_batch > 0 ? options.max_batch : 512;
  cudaDeviceProp prop{};
  device_ = choose_device(options, &prop);
  check(cudaSetDevice(device_), "cudaSetDevice");
  int driver = 0;
  cudaDriverGetVersion(&driver);
  info_.backend = "cuda";
  info_.name = prop.name;
  info_.type = "discrete";
  info_.driver = "CUDA driver " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) + ", compute " +
                 std::to_string(prop.major) + "." + std::to_string(prop.minor);
  info_.memory_bytes = prop.totalGlobalMem;
  info_.memory_bandwidth_bytes_per_s = peak_memory_bandwidth(device_);
  info_.index = device_;
  if (c.head_dim > kMaxHeadDim || c.head_dim % 2)
    fail(ErrorKind::Unsupported, "cuda: head_dim must be even and at most " + std::to_string(kMaxHeadDim));
  if (c.hidden_size > kMaxStagedCols)
    fail(ErrorKind::Unsupported, "cuda: hidden_size must be at most " + std::to_string(kMaxStagedCols));
  if (c.num_experts > kMaxExperts || c.experts_per_token > kMaxExpertsPerToken)
    fail(ErrorKind::Unsupported, "cuda: the router kernel handles at most " + std::to_string(kMaxExperts) + " experts and top-" +
                                     std::to_string(kMaxExpertsPerToken));

  // Plan, then check it fits before allocating.
  const std::uint64_t B = static_cast<std::uint64_t>(batch_), V = static_cast<std::uint64_t>(c.vocab_size);
  const std::uint64_t H = static_cast<std::uint64_t>(c.hidden_size), K = static_cast<std::uint64_t>(c.experts_per_token),
                      E = static_cast<std::uint64_t>(c.num_experts);
  logits_rows_ = std::min(batch_, kMaxLogitsRows);
  std::uint64_t kv_bytes = 0;
  for (int l = 0; l < c.num_layers; ++l)
    kv_bytes += 2 * static_cast<std::uint64_t>(rings_.slot_count(l)) * static_cast<std::uint64_t>(c.kv_dim()) * 2;
  const std::uint64_t max_tiles = static_cast<std::uint64_t>(expert_group_max_tiles(batch_ * c.experts_per_token, c.num_experts));
  // The tensor-core products' input rows (kernel_api.h, tensor_rows): the widest input is o's or q/k/v's.
  const std::uint64_t tensor_row_cols = std::max<std::uint64_t>(H, static_cast<std::uint64_t>(c.q_dim()));
  const std::uint64_t activations =
      4 * (B * (2 * H + tensor_row_cols + 2 * static_cast<std::uint64_t>(c.q_dim()) +
                2 * static_cast<std::uint64_t>(c.kv_dim()) + 3 * K + K * static_cast<std::uint64_t>(c.intermediate_size) +
                K * H + 1) +
           3 * max_tiles + 1 +
           static_cast<std::uint64_t>(logits_rows_) * V +
           static_cast<std::uint64_t>(kMaxDecodeSplits) * static_cast<std::uint64_t>(c.num_heads) *
               static_cast<std::uint64_t>(c.head_dim + 2) +
           static_cast<std::uint64_t>(c.num_kv_heads) +
           static_cast<std::uint64_t>(kRouterSplitTokens) * (static_cast<std::uint64_t>(kMaxRouterSplits) * E + 1)) +
      sample_scratch_bytes() +
      B * (H + K * static_cast<std::uint64_t>(c.intermediate_size)) * 9 / 8;  // 8-bit activations, if asked for
  const std::uint64_t weights = CudaWeights::planned_bytes(c, model.weights());
  std::size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  if (weights + kv_bytes + activations > free_bytes)
    fail(ErrorKind::OutOfMemory, "the model needs " + gib_text(weights + kv_bytes + activations) + " of device memory (weights " +
                                     gib_text(weights) + ", KV cache " + gib_text(kv_bytes) + ") but " + info_.name + " has " +
                                     gib_text(free_bytes) + " free");

  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  try {
    auto floats = [this](std::uint64_t n, const char* what) {
      return static_cast<float*>(scratch_.allocate(std::max<std::uint64_t>(n, 1) * 4, what));
    };
    x_ = floats(B * H, "activations");
    normed_ = floats(B * H, "activations");
    tensor_rows_ = static_cast<std::uint16_t*>(scratch_.allocate(B * tensor_row_cols * 4, "activations"));
    q_ = floats(B * static_cast<std::uint64_t>(c.q_dim()), "activations");
    attn_ = floats(B * static_cast<std::uint64_t>(c.q_dim()), "activations");
    k_ = floats(B * static_cast<std::uint64_t>(c.kv_dim()), "activations");
    v_ = floats(B * static_cast<std::uint64_t>(c.kv_dim()), "activations");
    decode_splits_.partial = floats(static_cast<std::uint64_t>(kMaxDecodeSplits) * static_cast<std::uint64_t>(c.num_heads) *
                                        static_cast<std::uint64_t>(c.head_dim + 2),
                                    "attention");
    // Arrival counters (and the sampler's state) start at zero; the kernels leave them so.
    auto zeroed = [this](std::uint64_t bytes, const char* what) {
      void* p = scratch_.allocate(bytes, what);
      check(cudaMemsetAsync(p, 0, bytes, stream_), what);
      return p;
    };
    decode_splits_.arrivals = static_cast<std::uint32_t*>(zeroed(static_cast<std::uint64_t>(c.num_kv_heads) * 4, "attention"));
    router_splits_.partial = floats(static_cast<std::uint64_t>(kRouterSplitTokens) * kMaxRouterSplits * E, "routing");
    router_splits_.arrivals = static_cast<std::uint32_t*>(zeroed(kRouterSplitTokens * 4, "routing"));
    sample_scratch_ = zeroed(sample_scratch_bytes(), "sampling");
    route_weight_ = floats(B * K, "routing");
    act_ = floats(B * K * static_cast<std::uint64_t>(c.intermediate_size), "expert activations");
    expert_out_ = floats(B * K * H, "expert outputs");
    auto ints = [this](std::uint64_t n) {
      return static_cast<std::int32_t*>(scratch_.allocate(std::max<std::uint64_t>(n, 1) * 4, "expert groups"));
    };
    groups_.rows = ints(B * K);
    groups_.tile_expert = ints(max_tiles);
    groups_.tile_begin = ints(max_tiles);
    groups_.tile_size = ints(max_tiles);
    groups_.tile_count = ints(1);
    logits_ = floats(static_cast<std::uint64_t>(logits_rows_) * V, "logits");
    const std::uint64_t step_bytes = sizeof(StepHeader) + B * 4;
    step_ = static_cast<std::uint8_t*>(scratch_.allocate(step_bytes, "tokens"));
    position_ = reinterpret_cast<std::int32_t*>(step_ + offsetof(StepHeader, position));
    sample_args_ = reinterpret_cast<SampleArgs*>(step_ + offsetof(StepHeader, sample));
    tokens_ = reinterpret_cast<std::int32_t*>(step_ + sizeof(StepHeader));
    choice_ = static_cast<std::int32_t*>(scratch_.allocate(B * K * 4, "routing"));
    picked_ = static_cast<std::int32_t*>(scratch_.allocate(4, "sampled id"));
    for (int l = 0; l < c.num_layers; ++l) {
      const std::uint64_t bytes = static_cast<std::uint64_t>(rings_.slot_count(l)) * static_cast<std::uint64_t>(c.kv_dim()) * 2;
      keys_.push_back(static_cast<std::uint16_t*>(scratch_.allocate(bytes, "KV cache")));
      values_.push_back(static_cast<std::uint16_t*>(scratch_.allocate(bytes, "KV cache")));
    }
    const cpu::YarnRope rope(c);
    rope_concentration_ = rope.concentration();
    inv_freq_ = floats(rope.inv_freq().size(), "RoPE frequencies");
    check(cudaMemcpy(inv_freq_, rope.inv_freq().data(), rope.inv_freq().size() * 4, cudaMemcpyHostToDevice), "RoPE frequencies");
    check(cudaMallocHost(reinterpret_cast<void**>(&host_step_), step_bytes), "cudaMallocHost");
    check(cudaMallocHost(reinterpret_cast<void**>(&host_picked_), 4), "cudaMallocHost");
    weights_ = std::make_unique<CudaWeights>(c, model.weights(), control);
    if (options_.profile) check(cudaEventCreate(&chunk_start_), "cudaEventCreate");
    use_graphs_ = !env_is("OSSDESK_CUDA_GRAPHS", "0");
    use_tensor_cores_ = !env_is("OSSDESK_CUDA_TENSOR_CORES", "0");
    // What runs, in the device line (info, bench JSON), when a switch changed it.
    if (!use_graphs_) info_.driver += ", decode without graphs";
    if (!use_tensor_cores_) info_.driver += ", prefill without tensor cores";
    // One bf16/f16 product per tensor-core step instead of the hi + lo split:
    // opt-in until a GPU run shows what the split costs (gpu-bench.sh).
    if (env_is("OSSDESK_CUDA_TENSOR_PRECISION", "single")) {
      tensor_precision_ = TensorPrecision::Single;
      if (use_tensor_cores_) info_.driver += ", prefill products in single bf16/f16";
    }
    // Programmatic dependent launch (sm_90 and later) is opt-in until a GPU
    // run shows what it buys; packaging/gpu-bench.sh measures both.
    programmatic_launch_ = env_is("OSSDESK_CUDA_PDL", "1") && prop.major >= 9;
    if (programmatic_launch_) info_.driver += ", programmatic dependent launch";
    if (env_is("OSSDESK_CUDA_EXPERT_DP4A", "1")) {
      const std::uint64_t I = static_cast<std::uint64_t>(c.intermediate_size);
      normed_q8_ = Q8Rows{static_cast<std::int8_t*>(scratch_.allocate(B * H, "8-bit activations")),
                          floats(B * H / 32, "8-bit activations")};
      act_q8_ = Q8Rows{static_cast<std::int8_t*>(scratch_.allocate(B * K * I, "8-bit activations")),
                       floats(B * K * I / 32, "8-bit activations")};
      info_.driver += ", experts by dp4a on 8-bit activations";
    }
  } catch (...) {
    if (host_step_) cudaFreeHost(host_step_);
    if (host_picked_) cudaFreeHost(host_picked_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

CudaBackend::~CudaBackend() {
  cudaStreamSynchronize(stream_);
  for (cudaEvent_t e : event_pool_) cudaEventDestroy(e);
  if (chunk_start_) cudaEventDestroy(chunk_start_);
  for (cudaGraphExec_t g : decode_graphs_)
    if (g) cudaGraphExecDestroy(g);
  if (host_step_) cudaFreeHost(host_step_);
  if (host_picked_) cudaFreeHost(host_picked_);
  cudaStreamDestroy(stream_);
}

void CudaBackend::stage(const char* name) {
  if (!options_.profile) return;
  if (stage_events_.size() == event_pool_.size()) {
    cudaEvent_t e = nullptr;
    check(cudaEventCreate(&e), "cudaEventCreate");
    event_pool_.push_back(e);
  }
  cudaEvent_t e = event_pool_[stage_events_.size()];
  check(cudaEventRecord(e, stream_), "cudaEventRecord");
  stage_events_.emplace_back(name, e);
}

bool CudaBackend::on_tensor_cores(const MatvecPart* parts, int count, int tokens) const {
  return use_tensor_cores_ && tokens >= kTensorCoreMinTokens && gemm_fusable(parts, count);
}

void CudaBackend::project(std::initializer_list<MatvecPart> parts, const float* x, int x_stride, const float* norm, int tokens) {
  const int count = static_cast<int>(parts.size());
  const float eps = static_cast<float>(config_.rms_norm_eps);
  const bool tensor_cores = on_tensor_cores(parts.begin(), count, tokens);
  if (!tensor_cores && matvec_fusable(parts.begin(), count)) {
    matvec_fused(parts.begin(), count, x, x_stride, norm, eps, tokens, stream_);
    return;
  }
  const int cols = parts.begin()->w.cols;
  if (tensor_cores) {  // the input rounded once for every tile of the GEMM, with the norm
    tensor_rows(x, x_stride, norm, eps, tokens, cols, gemm_operand(parts.begin()->w.format), tensor_precision_, tensor_rows_,
                stream_);
    gemm(parts.begin(), count, tensor_rows_, tokens, tensor_precision_, stream_);
    return;
  }
  if (norm) {
    rmsnorm(x, norm, normed_, tokens, cols, eps, stream_);
    x = normed_;
    x_stride = cols;
  }
  for (const MatvecPart& p : parts) matvec(p.w, x, x_stride, p.bias, p.y, p.y_stride, tokens, p.accumulate, stream_);
}

int CudaBackend::pick_plan(const Pick& pick) {
  if (pick.kind != Pick::Draw) return pick.kind == Pick::Argmax ? kArgmax : kNoPick;
  return kDraw + (pick.params.top_k > 0 ? 1 : 0) + (pick.params.top_p < 1.0f ? 2 : 0);
}

void CudaBackend::enqueue_chunk(int T, LogitsMode mode, int plan) {
  const ModelConfig& c = config_;
  const CudaWeights& w = *weights_;
  const int H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), K = c.experts_per_token, V = c.vocab_size, E = c.num_experts;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const bool tensor_cores = use_tensor_cores_ && T >= kTensorCoreMinTokens;
  const bool grouped_experts = tensor_cores && moe_groupable(w.layers.front().gate, w.layers.front().down, E);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  cudaStream_t s = stream_;
  set_programmatic_launch(programmatic_launch_);  // the switch is the process's; this backend's choice holds while it enqueues

  check(cudaMemcpyAsync(step_, host_step_, sizeof(StepHeader) + static_cast<std::size_t>(T) * 4, cudaMemcpyHostToDevice, s),
        "tokens");
  embed(w.embedding, tokens_, T, x_, s);
  stage("embed");
  for (int l = 0; l < c.num_layers; ++l) {
    const CudaLayer& L = w.layers[static_cast<std::size_t>(l)];
    const int window = c.layer_is_sliding[static_cast<std::size_t>(l)] ? c.sliding_window : 0;
    const int ring = rings_.ring(l);
    const MatvecPart qkv[] = {MatvecPart{L.wq, L.bq, q_, Q}, MatvecPart{L.wk, L.bk, k_, KV}, MatvecPart{L.wv, L.bv, v_, KV}};
    const RopeKvAppend append{inv_freq_, c.head_dim / 2, rope_concentration_, keys_[static_cast<std::size_t>(l)],
                              values_[static_cast<std::size_t>(l)], ring, position_};
    if (!on_tensor_cores(qkv, 3, T) && qkv_rope_fusable(qkv, append)) {  // decode: one launch
      qkv_rope_fused(qkv, x_, H, L.attn_norm, eps, append, T, s);
      stage("attn_norm+qkv+rope+kv_write");
    } else {
      project({qkv[0], qkv[1], qkv[2]}, x_, H, L.attn_norm, T);
      stage("attn_norm+qkv");
      rope_kv_write(q_, k_, v_, c.num_heads, c.num_kv_heads, append, T, s);
      stage("rope+kv_write");
    }
    if (T == 1 && c.num_heads / c.num_kv_heads <= kDecodeMaxGroup) {
      const int max_keys = window > 0 ? std::min(window, rings_.capacity()) : rings_.capacity();
      attention_decode(q_, keys_[static_cast<std::size_t>(l)], values_[static_cast<std::size_t>(l)], L.sinks, attn_,
                       c.num_heads, c.num_kv_heads, c.head_dim, window, ring, scale, position_,
                       attention_decode_splits(max_keys), decode_splits_, s);
    } else if (tensor_cores && attention_on_tensor_cores(c.head_dim)) {
      attention_tensor_cores(q_, keys_[static_cast<std::size_t>(l)], values_[static_cast<std::size_t>(l)], L.sinks, attn_,
                             c.num_heads, c.num_kv_heads, window, ring, scale, position_, T, s);
    } else {
      attention(q_, keys_[static_cast<std::size_t>(l)], values_[static_cast<std::size_t>(l)], L.sinks, attn_, c.num_heads,
                c.num_kv_heads, c.head_dim, window, ring, scale, position_, T, s);
    }
    stage("attention");
    project({MatvecPart{L.wo, L.bo, x_, H, /*accumulate=*/true}}, attn_, Q, nullptr, T);
    stage("attn_out+residual");
    router_topk(L.router, L.router_bias, x_, L.mlp_norm, eps, normed_, grouped_experts ? Q8Rows{} : normed_q8_, T, K,
                choice_, route_weight_, router_splits_, s);
    stage("moe_norm+router");
    const float limit = static_cast<float>(c.swiglu_limit);
    if (grouped_experts) {
      group_by_expert(choice_, T * K, E, groups_, s);
      stage("moe_group");
      tensor_rows(normed_, H, nullptr, eps, T, H, TensorOperand::BF16, tensor_precision_, tensor_rows_, s);
      stage("moe_input_rows");
      // The SwiGLU outputs go to act_'s memory as rounded rows (4 bytes a value, as a float's).
      std::uint16_t* act_rows = reinterpret_cast<std::uint16_t*>(act_);
      moe_gate_up_grouped(L.gate, L.up, L.gate_bias, L.up_bias, tensor_rows_, T, K, E, groups_, limit, act_rows,
                          tensor_precision_, s);
      stage("moe_gate_up");
      moe_down_grouped(L.down, L.down_bias, act_rows, route_weight_, T, K, E, groups_, expert_out_, x_, tensor_precision_, s);
      stage("moe_down+residual");
      continue;
    }
    moe_gate_up(L.gate, L.up, L.gate_bias, L.up_bias, normed_, normed_q8_, choice_, T, K, limit, act_, s);
    stage("moe_gate_up");
    moe_down(L.down, L.down_bias, act_, act_q8_, choice_, route_weight_, T, K, x_, s);
    stage("moe_down+residual");
  }
  if (mode == LogitsMode::None && plan == kNoPick) return;
  const int rows = mode == LogitsMode::All ? T : 1;
  project({MatvecPart{w.unembedding, nullptr, logits_, V}}, x_ + static_cast<std::size_t>(T - rows) * H, H, w.final_norm, rows);
  stage("final_norm+unembed");
  if (plan == kNoPick) return;
  const float* last = logits_ + static_cast<std::size_t>(rows - 1) * V;
  if (plan == kArgmax) argmax(last, V, sample_scratch_, picked_, s);
  else sample(last, V, sample_args_, plan == kDrawTopK || plan == kDrawTopKTopP, plan == kDrawTopP || plan == kDrawTopKTopP,
              sample_scratch_, picked_, s);
  check(cudaMemcpyAsync(host_picked_, picked_, 4, cudaMemcpyDeviceToHost, s), "sampled id");
  stage("sample");
}

cudaGraphExec_t CudaBackend::decode_graph(int plan) {
  cudaGraphExec_t& exec = decode_graphs_[plan];
  if (exec) return exec;
  check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  cudaGraph_t graph = nullptr;
  try {
    enqueue_chunk(1, LogitsMode::None, plan);
  } catch (...) {
    if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    throw;
  }
  check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
  const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  check(status, "cudaGraphInstantiate");
  return exec;
}

TokenId CudaBackend::run_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits, const Pick& pick) {
  const int T = static_cast<int>(tokens.size());
  const int pos = rings_.position();
  cudaStream_t s = stream_;
  check(cudaSetDevice(device_), "cudaSetDevice");

  StepHeader header;
  header.position = pos;
  if (pick.kind == Pick::Draw) {
    header.sample.inv_temperature = 1.0f / pick.params.temperature;
    header.sample.top_k = pick.params.top_k;
    header.sample.top_p = pick.params.top_p;
    header.sample.min_p = pick.params.min_p;
    header.sample.u = pick.u;
  }
  std::memcpy(host_step_, &header, sizeof header);
  std::memcpy(host_step_ + sizeof header, tokens.data(), static_cast<std::size_t>(T) * 4);

  // A decode step that only picks replays the captured graph: one launch, one sync.
  const int plan = pick_plan(pick);
  const bool replay = use_graphs_ && !options_.profile && T == 1 && mode == LogitsMode::None && plan != kNoPick;
  if (replay) {
    check(cudaGraphLaunch(decode_graph(plan), s), "cudaGraphLaunch");
  } else {
    stage_events_.clear();
    if (options_.profile) check(cudaEventRecord(chunk_start_, s), "cudaEventRecord");
    enqueue_chunk(T, mode, plan);
    if (mode != LogitsMode::None && logits) {
      const std::size_t rows = mode == LogitsMode::All ? static_cast<std::size_t>(T) : 1;
      check(cudaMemcpyAsync(logits, logits_, rows * static_cast<std::size_t>(config_.vocab_size) * 4, cudaMemcpyDeviceToHost, s),
            "logits");
    }
  }
  check(cudaStreamSynchronize(s), "running the forward pass");
  check(cudaGetLastError(), "a kernel launch");
  const TokenId picked = pick.kind != Pick::None ? *host_picked_ : -1;
  rings_.set_position(pos + T);
  if (options_.profile) {
    cudaEvent_t previous = chunk_start_;
    for (const auto& [name, event] : stage_events_) {
      float ms = 0;
      cudaEventElapsedTime(&ms, previous, event);
      add_timing(profile_, name, ms, 1);
      previous = event;
    }
  }
  return picked;
}

void CudaBackend::forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) {
  if (tokens.empty()) return;
  check_forward_input(*this, tokens);
  const int chunk = mode == LogitsMode::All ? std::min(batch_, logits_rows_) : batch_;
  forward_in_chunks(tokens, mode, logits, static_cast<std::size_t>(chunk), static_cast<std::size_t>(config_.vocab_size),
                    [this](std::span<const TokenId> part, LogitsMode m, float* out) { run_chunk(part, m, out, Pick{}); });
}

TokenId CudaBackend::forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) {
  if (tokens.empty()) return Backend::forward_and_sample(tokens, params, state);
  check_forward_input(*this, tokens);
  Pick pick;
  pick.kind = params.temperature > 0.0f ? Pick::Draw : Pick::Argmax;
  pick.params = params;
  if (pick.kind == Pick::Draw) pick.u = static_cast<float>(state.next_unit());  // as sample_token takes it
  TokenId id = -1;
  forward_in_chunks(tokens, LogitsMode::Last, nullptr, static_cast<std::size_t>(batch_),
                    static_cast<std::size_t>(config_.vocab_size), [&](std::span<const TokenId> part, LogitsMode m, float*) {
                      const bool last = m == LogitsMode::Last;
                      const TokenId got = run_chunk(part, LogitsMode::None, nullptr, last ? pick : Pick{});
                      if (last) id = got;
                    });
  return id;
}

void CudaBackend::copy_rings(bool to_checkpoint) {
  check(cudaSetDevice(device_), "cudaSetDevice");  // callers run on the engine's thread, not the loader's
  for (int l = 0; l < config_.num_layers; ++l) {
    if (!rings_.ring(l)) continue;
    const std::size_t i = static_cast<std::size_t>(l);
    const std::size_t bytes = static_cast<std::size_t>(rings_.slot_count(l)) * static_cast<std::size_t>(config_.kv_dim()) * 2;
    if (to_checkpoint) {
      check(cudaMemcpyAsync(checkpoint_keys_[i], keys_[i], bytes, cudaMemcpyDeviceToDevice, stream_), "checkpoint");
      check(cudaMemcpyAsync(checkpoint_values_[i], values_[i], bytes, cudaMemcpyDeviceToDevice, stream_), "checkpoint");
    } else {
      check(cudaMemcpyAsync(keys_[i], checkpoint_keys_[i], bytes, cudaMemcpyDeviceToDevice, stream_), "restore");
      check(cudaMemcpyAsync(values_[i], checkpoint_values_[i], bytes, cudaMemcpyDeviceToDevice, stream_), "restore");
    }
  }
  check(cudaStreamSynchronize(stream_), "copying the KV rings");
}

void CudaBackend::checkpoint() {
  check(cudaSetDevice(device_), "cudaSetDevice");
  if (rings_.any_ring()) {
    if (checkpoint_keys_.empty()) {
      for (int l = 0; l < config_.num_layers; ++l) {
        const std::uint64_t bytes =
            rings_.ring(l) ? static_cast<std::uint64_t>(rings_.slot_count(l)) * static_cast<std::uint64_t>(config_.kv_dim()) * 2 : 4;
        checkpoint_keys_.push_back(static_cast<std::uint16_t*>(scratch_.allocate(bytes, "KV checkpoint")));
        checkpoint_values_.push_back(static_cast<std::uint16_t*>(scratch_.allocate(bytes, "KV checkpoint")));
      }
    }
    copy_rings(true);
  }
  rings_.checkpoint();
}

int CudaBackend::truncate(int n) {
  const KvRings::Rollback r = rings_.truncate(n);
  if (r.restore_checkpoint) copy_rings(false);
  return r.kept;
}

std::vector<OpTiming> CudaBackend::take_profile() {
  std::vector<OpTiming> out;
  out.swap(profile_);
  return out;
}

std::uint64_t CudaBackend::device_memory_bytes() const { return weights_->bytes() + scratch_.bytes(); }

}  // namespace ossdesk::cuda
