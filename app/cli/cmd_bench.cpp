// `bench`: prefill and decode speed of a model on a backend, llama-bench
// style: `runs` repetitions of a `pp`-token prefill from an empty cache and a
// `tg`-token decode after it (optionally at a `depth` of context already in
// the cache), greedy, or drawn over the whole vocabulary at --temperature T as
// a chat at default settings draws; mean ± sd, TTFT and peak memory; JSON with
// --json. The runs start once the CPU backend's background read of the
// weights is over (weights_ready_s).
// Decode is also put against its memory-bandwidth limit: the bytes one decoded
// token reads (active weights, plus the KV cache in view at its position) over
// the device's peak bandwidth (from the driver, or --peak-gbps; for the CPU,
// without --peak-gbps, the read bandwidth measured with the backend's threads).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "commands.h"
#include "common.h"
#include "host_bandwidth.h"
#include "ossdesk/error.h"

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace ossdesk::cli {

namespace {

struct MeanSd {
  double mean = 0, sd = 0;
};
MeanSd mean_sd(const std::vector<double>& v) {
  MeanSd r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  for (double x : v) r.sd += (x - r.mean) * (x - r.mean);
  r.sd = v.size() > 1 ? std::sqrt(r.sd / static_cast<double>(v.size() - 1)) : 0;
  return r;
}

std::uint64_t peak_rss_bytes() {
#ifndef _WIN32
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;
#else
  return 0;
#endif
}

}  // namespace

int cmd_bench(const Argv& argv) {
  Args args("bench", argv, with_backend_options({"model", "pp", "tg", "runs", "depth", "peak-gbps", "temperature"}), {"json", "profile"});
  const int pp = args.get_int("pp", 512), tg = args.get_int("tg", 128), runs = args.get_int("runs", 3),
            depth = args.get_int("depth", 0);
  const double peak_gbps_given = args.get_double("peak-gbps", 0.0), temperature = args.get_double("temperature", 0.0);
  if (pp < 1 || tg < 0 || runs < 1 || depth < 0 || peak_gbps_given < 0 || temperature < 0)
    fail_input("bench: --pp and --runs must be >= 1, --tg, --depth, --peak-gbps and --temperature >= 0");
  const auto load_start = std::chrono::steady_clock::now();
  LoadedModel lm = load_model(args, depth + pp + tg + 1, "auto", args.flag("profile"));
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  Backend& b = *lm.backend;
  // The CPU backend reads the weights into RAM in the background after a load;
  // the runs time the steady state, not the disk (weights_ready_s says how
  // long the read took; weights.note why there was none).
  b.wait_for_weights();
  const double weights_ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count() - load_s;
  const WeightsStatus weights = b.weights_status();
  const int vocab = lm.model->config().vocab_size;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> any_token(0, std::min(vocab, 199997) - 1);
  std::vector<TokenId> context(static_cast<std::size_t>(depth)), prompt(static_cast<std::size_t>(pp));
  for (auto& t : context) t = any_token(rng);
  for (auto& t : prompt) t = any_token(rng);
  std::vector<double> prefill_tps, decode_tps, ttft_ms;
  // Per-op GPU/CPU time, prefill and decode apart (they stress different kernels).
  std::vector<OpTiming> prefill_ops, decode_ops;
  auto add_ops = [&b](std::vector<OpTiming>& sink) {
    for (const OpTiming& op : b.take_profile()) add_timing(sink, op.op, op.total_ms, op.calls);
  };
  const SamplingParams greedy{0.0f, 0, 1.0f, 0.0f, 0};
  const SamplingParams decode_pick{static_cast<float>(temperature), 0, 1.0f, 0.0f, 0};  // temperature 0: greedy
  SamplerState state(0);
  using clock = std::chrono::steady_clock;
  for (int r = 0; r < runs; ++r) {
    b.truncate(0);
    if (depth > 0) b.forward(context, LogitsMode::None, nullptr);
    b.take_profile();
    const auto t0 = clock::now();
    TokenId next = b.forward_and_sample(prompt, greedy, state);
    const auto t1 = clock::now();
    add_ops(prefill_ops);
    const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
    prefill_tps.push_back(pp / prefill_s);
    ttft_ms.push_back(prefill_s * 1000.0);
    if (tg > 0) {
      const auto d0 = clock::now();
      for (int i = 0; i < tg; ++i) next = b.forward_and_sample(std::span<const TokenId>(&next, 1), decode_pick, state);
      decode_tps.push_back(tg / std::chrono::duration<double>(clock::now() - d0).count());
      add_ops(decode_ops);
    }
    if (!args.flag("json"))
      std::fprintf(stderr, "run %d/%d: prefill %.1f tok/s, decode %.2f tok/s\n", r + 1, runs, prefill_tps.back(),
                   decode_tps.empty() ? 0.0 : decode_tps.back());
  }
  const MeanSd p = mean_sd(prefill_tps), d = mean_sd(decode_tps), t = mean_sd(ttft_ms);
  const ModelConfig& config = lm.model->config();
  const std::uint64_t bytes_per_token = lm.model->weights().bytes_read_per_token(config);
  // The KV cache a decoded token reads, averaged over the decoded positions.
  double kv_bytes_per_token = 0;
  for (int i = 0; i < tg; ++i) kv_bytes_per_token += static_cast<double>(config.kv_bytes_read(depth + pp + i, b.kv_value_bytes()));
  if (tg > 0) kv_bytes_per_token /= tg;
  const double decode_bytes = static_cast<double>(bytes_per_token) + kv_bytes_per_token;
  const std::uint64_t peak_host_memory = peak_rss_bytes();  // before the bandwidth measurement's buffer
  double peak_gbps = peak_gbps_given > 0 ? peak_gbps_given : static_cast<double>(b.device().memory_bandwidth_bytes_per_s) / 1e9;
  std::string peak_source = peak_gbps_given > 0 ? "--peak-gbps" : "driver";
  if (peak_gbps <= 0 && lm.choice.name == "cpu") {
    // Measured after the runs, so it neither warms nor evicts what they read,
    // with the threads the backend ran on.
    const unsigned threads = b.device().threads;
    peak_gbps = measure_host_read_gbps(threads);
    peak_source = "measured: " + std::to_string(threads) + " threads reading 256 MiB";
  }
  const double limit_tps = peak_gbps > 0 ? peak_gbps * 1e9 / decode_bytes : 0.0;  // 0: no peak known
  const double fraction_of_limit = limit_tps > 0 ? d.mean / limit_tps : 0.0;
  nlohmann::json out = {
      {"model", lm.model->path()},
      {"format", lm.model->format_name()},
      {"backend", lm.choice.name},
      {"backend_reason", lm.choice.reason},
      {"device", b.device().name},
      {"driver", b.device().driver},
      {"pp", pp},
      {"tg", tg},
      {"depth", depth},
      {"temperature", temperature},
      {"runs", runs},
      {"load_s", load_s},
      {"weights_ready_s", weights_ready_s},
      {"prefill_tokens_per_s", {{"mean", p.mean}, {"sd", p.sd}}},
      {"decode_tokens_per_s", {{"mean", d.mean}, {"sd", d.sd}}},
      {"ttft_ms", {{"mean", t.mean}, {"sd", t.sd}}},
      {"weight_bytes_per_token", bytes_per_token},
      {"decode_weight_gb_per_s", d.mean * static_cast<double>(bytes_per_token) / 1e9},
      {"kv_bytes_per_token", kv_bytes_per_token},
      {"decode_gb_per_s", d.mean * decode_bytes / 1e9},
      {"peak_host_memory_bytes", peak_host_memory},
  };
  if (b.device_memory_bytes() > 0) out["device_memory_bytes"] = b.device_memory_bytes();
  out["weights"] = weights_json(weights);
  if (limit_tps > 0) {
    out["peak_memory_gb_per_s"] = {{"value", peak_gbps}, {"from", peak_source}};
    out["decode_bandwidth_limit_tokens_per_s"] = limit_tps;
    out["decode_fraction_of_limit"] = fraction_of_limit;
  }
  if (args.flag("profile")) {
    auto table = [](std::vector<OpTiming> ops) {
      std::sort(ops.begin(), ops.end(), [](const OpTiming& a, const OpTiming& c) { return a.total_ms > c.total_ms; });
      nlohmann::json j = nlohmann::json::array();
      for (const auto& op : ops) j.push_back({{"op", op.op}, {"ms", op.total_ms}, {"calls", op.calls}});
      return j;
    };
    out["profile"] = {{"prefill", table(prefill_ops)}, {"decode", table(decode_ops)}};
  }
  if (args.flag("json")) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s on %s (%s)\n", lm.choice.name.c_str(), b.device().name.c_str(), lm.model->path().c_str());
    std::printf("prefill %d tokens: %.1f ± %.1f tok/s (TTFT %.0f ms)\n", pp, p.mean, p.sd, t.mean);
    std::printf("decode %d tokens at depth %d (%s): %.2f ± %.2f tok/s (%.2f GB/s of weights and KV cache)\n", tg, depth + pp,
                temperature > 0 ? "drawn" : "greedy", d.mean, d.sd, d.mean * decode_bytes / 1e9);
    if (limit_tps > 0)
      std::printf("  %.1f%% of the bandwidth limit: %.0f tok/s at %.0f GB/s peak (%s)\n", 100.0 * fraction_of_limit,
                  limit_tps, peak_gbps, peak_source.c_str());
    if (weights.place == WeightsPlace::Memory)
      std::printf("%s, read %.1f s after the load\n", weights.note.c_str(), weights_ready_s);
    else if (!weights.note.empty())
      std::printf("%s\n", weights.note.c_str());
    std::printf("peak host memory: %s\n", human_bytes(peak_host_memory).c_str());
    if (b.device_memory_bytes() > 0) std::printf("device memory: %s\n", human_bytes(b.device_memory_bytes()).c_str());
    if (args.flag("profile"))
      for (const char* phase : {"prefill", "decode"}) {
        std::printf("%s, per op (all runs):\n", phase);
        for (const auto& op : out["profile"][phase])
          std::printf("  %-28s %10.1f ms  %llu calls\n", op["op"].get<std::string>().c_str(), op["ms"].get<double>(),
                      static_cast<unsigned long long>(op["calls"].get<std::uint64_t>()));
      }
  }
  return 0;
}

}  // namespace ossdesk::cli
