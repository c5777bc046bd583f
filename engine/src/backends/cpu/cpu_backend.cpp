#include "backends/cpu/cpu_backend.h"

#include <fstream>
#include <thread>

#include "backends/cpu/ops.h"
#include "ossdesk/error.h"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace ossdesk::cpu {

namespace {

class ScopedTimer {
 public:
  ScopedTimer(bool on, std::map<std::string, OpTiming>& sink, const char* op) : on_(on), sink_(sink), op_(op) {
    if (on_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedTimer() {
    if (!on_) return;
    auto& t = sink_[op_];
    t.op = op_;
    t.total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    ++t.calls;
  }

 private:
  bool on_;
  std::map<std::string, OpTiming>& sink_;
  const char* op_;
  std::chrono::steady_clock::time_point start_;
};

// The forward chunk and the sliding rings must agree on it: a ring holds the
// window behind a chunk plus the chunk.
BackendOptions with_default_batch(BackendOptions o) {
  if (o.max_batch <= 0) o.max_batch = 512;
  return o;
}

}  // namespace

DeviceInfo describe_host_cpu(unsigned threads) {
  DeviceInfo d;
  d.backend = "cpu";
  d.type = "cpu";
  std::string model = "CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  }
  d.name = model + " (" + std::to_string(threads) + " threads)";
  d.threads = threads;
#ifndef _WIN32
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) d.memory_bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return d;
}

CpuBackend::CpuBackend(const Model& model, const BackendOptions& options, const LoadControl& control)
    : config_(model.config()),
      weights_(model.weights()),
      options_(with_default_batch(options)),
      kernels_(options.cpu_portable_kernels ? portable_kernels() : cpu_kernels()),
      pool_(std::make_unique<ThreadPool>(options.threads > 0 ? static_cast<unsigned>(options.threads) : 0)),
      rope_(model.config()),
      cache_(model.config(), std::max(1, options.context_length), options_.max_batch) {
  device_ = describe_host_cpu(pool_->size());
  device_.driver = std::string("kernels: ") + kernels_.name;
  // The weights stay memory-mapped; nothing to upload. Reading them here
  // would only move the disk wait from the first answer to the load, so they
  // are read on a thread of their own while the user types.
  warm_up_ = std::make_unique<WeightWarmUp>(model);
  if (control.progress) control.progress(1.0, "ready");
}

std::vector<OpTiming> CpuBackend::take_profile() {
  std::vector<OpTiming> out;
  for (auto& [name, t] : profile_) out.push_back(t);
  profile_.clear();
  return out;
}

void CpuBackend::forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) {
  if (tokens.empty()) return;
  check_forward_input(*this, tokens);
  forward_in_chunks(tokens, mode, logits, static_cast<std::size_t>(options_.max_batch),
                    static_cast<std::size_t>(config_.vocab_size),
                    [this](std::span<const TokenId> chunk, LogitsMode m, float* out) { forward_chunk(chunk, m, out); });
}

void CpuBackend::forward_chunk(std::span<const TokenId> tokens, LogitsMode mode, float* logits) {
  const ModelConfig& c = config_;
  const int T = static_cast<int>(tokens.size());
  const int H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim();
  const int first_pos = cache_.position();
  const bool prof = options_.profile;
  const OpContext ctx{*pool_, kernels_};
  auto rows = [T](int width) { return std::vector<float>(static_cast<std::size_t>(T) * width); };
  std::vector<float> x = rows(H), normed = rows(H), q = rows(Q), k = rows(KV), v = rows(KV), attn = rows(Q), proj = rows(H);

  {
    ScopedTimer timer(prof, profile_, "embed");
    for (int t = 0; t < T; ++t) embed(ctx, weights_.embedding, tokens[t], x.data() + static_cast<std::size_t>(t) * H);
  }
  std::vector<float> cos_t(static_cast<std::size_t>(T) * rope_.half_dim()), sin_t(cos_t.size());
  for (int t = 0; t < T; ++t)
    rope_.tables(first_pos + t, cos_t.data() + static_cast<std::size_t>(t) * rope_.half_dim(),
                 sin_t.data() + static_cast<std::size_t>(t) * rope_.half_dim());

  for (int l = 0; l < c.num_layers; ++l) {
    const LayerWeights& L = weights_.layers[l];
    {
      ScopedTimer timer(prof, profile_, "attn_norm+qkv");
      rmsnorm(x.data(), L.attn_norm, c.rms_norm_eps, T, H, normed.data());
      matmul(ctx, L.wq, &L.bq, normed.data(), T, q.data());
      matmul(ctx, L.wk, &L.bk, normed.data(), T, k.data());
      matmul(ctx, L.wv, &L.bv, normed.data(), T, v.data());
    }
    {
      ScopedTimer timer(prof, profile_, "rope+kv_write");
      for (int t = 0; t < T; ++t) {
        const float* ct = cos_t.data() + static_cast<std::size_t>(t) * rope_.half_dim();
        const float* st = sin_t.data() + static_cast<std::size_t>(t) * rope_.half_dim();
        rope_.apply(q.data() + static_cast<std::size_t>(t) * Q, c.num_heads, ct, st);
        rope_.apply(k.data() + static_cast<std::size_t>(t) * KV, c.num_kv_heads, ct, st);
        cache_.store(l, first_pos + t, k.data() + static_cast<std::size_t>(t) * KV, v.data() + static_cast<std::size_t>(t) * KV);
      }
    }
    {
      ScopedTimer timer(prof, profile_, "attention");
      const AttentionShape shape{c.num_heads, c.num_kv_heads, c.head_dim, c.layer_is_sliding[l] ? c.sliding_window : 0};
      attention(ctx, cache_, l, shape, L.sinks, q.data(), first_pos, T, attn.data());
    }
    {
      ScopedTimer timer(prof, profile_, "attn_out+residual");
      matmul(ctx, L.wo, &L.bo, attn.data(), T, proj.data());
      for (std::size_t i = 0; i < x.size(); ++i) x[i] += proj[i];
    }
    {
      ScopedTimer timer(prof, profile_, "moe");
      rmsnorm(x.data(), L.mlp_norm, c.rms_norm_eps, T, H, normed.data());
      moe(ctx, L, c, normed.data(), T, x.data());
    }
  }
  cache_.set_position(first_pos + T);
  if (mode == LogitsMode::None) return;
  ScopedTimer timer(prof, profile_, "final_norm+unembed");
  const int first_row = mode == LogitsMode::All ? 0 : T - 1;
  const int n = T - first_row;
  rmsnorm(x.data() + static_cast<std::size_t>(first_row) * H, weights_.final_norm, c.rms_norm_eps, n, H, normed.data());
  matmul(ctx, weights_.unembedding, nullptr, normed.data(), n, logits);
}

}  // namespace ossdesk::cpu
