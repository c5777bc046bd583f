// The one interface every compute backend (cpu, vulkan, cuda) implements.
//
// A backend owns everything on its device for one loaded model: the weights
// (repacked for its kernels if it wants), the KV cache of one sequence, and
// scratch memory. The runtime drives it with forward() over a batch of tokens
// (prefill) or one token (decode) and either reads logits back or asks the
// backend to sample on the device so only the chosen id crosses to the host.
//
// Positions are implicit: a forward() call continues at position(). The KV
// cache can be rolled back with truncate() for prefix reuse between turns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/sampling.h"
#include "model/model.h"
#include "ossdesk/profile.h"
#include "ossdesk/weights_status.h"

namespace ossdesk {

struct DeviceInfo {
  std::string backend;      // "cpu" | "vulkan" | "cuda"
  std::string name;         // "AMD Ryzen 9 7950X (16 threads)", "NVIDIA H100 80GB HBM3"
  std::string type;         // "cpu" | "discrete" | "integrated" | "virtual" | "software"
  std::string driver;       // driver or runtime version when known
  std::uint64_t memory_bytes = 0;  // device memory (system RAM for cpu)
  // Theoretical peak of device memory (clock x bus width, as the driver
  // reports them); 0 where the API does not say (Vulkan, cpu).
  std::uint64_t memory_bandwidth_bytes_per_s = 0;
  int index = 0;            // position in the backend's device list
  unsigned threads = 0;     // cpu: the worker threads it runs on (0 elsewhere)
};

struct BackendOptions {
  int context_length = 8192;  // KV cache capacity in tokens
  int max_batch = 512;        // tokens per forward chunk; longer inputs are split
  int threads = 0;            // cpu: worker threads (0 = all cores)
  int device_index = -1;      // -1: the backend's default device
  std::string device_name;    // alternatively, a substring of the device name
  bool allow_software_devices = false;  // vulkan: offer CPU-type devices such as lavapipe
  bool profile = false;       // collect per-op timings (see take_profile())
  bool cpu_portable_kernels = false;  // cpu: skip the AVX2 and AVX-512 kernels (also OSSDESK_CPU_KERNELS=portable)
};

enum class LogitsMode { None, Last, All };

// Loading reports progress (0..1) and stops early with Error(Cancelled) when
// `cancel` becomes true.
struct LoadControl {
  std::function<void(double fraction, const std::string& stage)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual const DeviceInfo& device() const = 0;
  virtual int context_length() const = 0;
  virtual int position() const = 0;  // tokens held in the KV cache
  virtual int vocab_size() const = 0;
  // Bytes per key or value in the KV cache (4 for float, 2 for f16).
  virtual int kv_value_bytes() const = 0;

  // Roll the KV cache back so that it holds the first `n` tokens (n <= position()).
  // Returns how many it really kept (<= n): sliding-window layers keep a short
  // ring and may not reach back that far unless a checkpoint() covers `n`. The
  // caller re-feeds the tokens after the returned count.
  virtual int truncate(int n) = 0;
  // Remember the sliding-window layers' state at the current position so a
  // later truncate() to here (typically: the end of a prompt) keeps everything.
  virtual void checkpoint() = 0;

  // Runs `tokens` at positions position() .. position()+size-1 and appends them
  // to the KV cache. `logits` receives nothing (None), the last token's
  // [vocab] logits (Last) or [size x vocab] (All). Throws Error(BadInput) when
  // the context would overflow or an id is outside the vocabulary.
  virtual void forward(std::span<const TokenId> tokens, LogitsMode mode, float* logits) = 0;

  // forward() of the tokens, then sampling of the last position's logits. The
  // default reads logits back and samples on the host; GPU backends sample on
  // the device so only the id crosses.
  virtual TokenId forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state);

  // Per-op timings since the last call (empty unless BackendOptions::profile).
  virtual std::vector<OpTiming> take_profile() { return {}; }
  // Device memory this backend allocated (weights, KV cache, scratch); 0 for
  // the CPU backend, whose weights stay memory-mapped.
  virtual std::uint64_t device_memory_bytes() const { return 0; }
  // Where the weights are read from (ossdesk/weights_status.h): Device for
  // the GPU backends. Safe to call from another thread than forward()'s.
  virtual WeightsStatus weights_status() const { return {}; }
  // Until a background read of the weights is over (benchmarks time the
  // steady state, not the disk).
  virtual void wait_for_weights() {}

 private:
  std::vector<float> host_logits_;
  std::vector<std::pair<float, TokenId>> host_candidates_;
};

// What every backend's forward() checks before touching its cache: room in the
// context and ids inside the vocabulary. Throws Error(BadInput).
void check_forward_input(const Backend& backend, std::span<const TokenId> tokens);

// forward() over chunks of at most `chunk` tokens: `run` gets each chunk with
// the logits mode it must produce (None for all but the last chunk unless
// `mode` is All) and where its logits go.
void forward_in_chunks(std::span<const TokenId> tokens, LogitsMode mode, float* logits, std::size_t chunk,
                       std::size_t vocab, const std::function<void(std::span<const TokenId>, LogitsMode, float*)>& run);

// "11.26 GiB", for messages about memory.
std::string gib_text(std::uint64_t bytes);

// Adds `ms` over `calls` to the entry for `op` in `sink`, creating it if needed.
void add_timing(std::vector<OpTiming>& sink, const std::string& op, double ms, std::uint64_t calls);

struct BackendChoice {
  std::string name;      // the backend that will run
  std::string reason;    // why: "requested", "no Vulkan device: ...", ...
  std::string fallback;  // "auto" only: the GPU backends that had a device but could not load the model, and why
};

// Names of the backends this build has, in order of preference (cuda, vulkan, cpu).
std::vector<std::string> available_backends();
// The devices a backend sees (empty with a reason when it has none).
std::vector<DeviceInfo> list_devices(const std::string& backend, bool include_software, std::string* why_none);
// The shared library a backend runs from ("" when it is built into the engine
// or its library is not loaded): the CUDA plugin's path, for `info`.
std::string backend_library(const std::string& backend);

// The "auto" choice over devices from `devices_of` (list_devices's answer for
// a backend), for a caller that has listed them already (`info`). With
// `attempt`, each GPU backend that has a device is tried in turn: false (with
// why in *why_not) moves on to the next, and the CPU is tried last.
using DeviceLister = std::function<std::vector<DeviceInfo>(const std::string& backend, std::string* why_none)>;
using AutoAttempt = std::function<bool(const BackendChoice& candidate, std::string* why_not)>;
BackendChoice choose_auto_backend(const DeviceLister& devices_of, const AutoAttempt& attempt = {});

// Creates and loads a backend. `name` is "cpu", "vulkan", "cuda" or "auto":
// the first of cuda, vulkan, cpu that has a usable device and loads the
// model; a GPU backend that fails for want of memory or support hands on to
// the next, and `choice` says which runs and why ("the first Vulkan GPU (cuda
// could not load the model: the model needs 13.1 GiB ...)"). Throws Error
// naming the backend and the reason.
std::unique_ptr<Backend> create_backend(const std::string& name, const Model& model, const BackendOptions& options,
                                        const LoadControl& control, BackendChoice* choice = nullptr);

}  // namespace ossdesk
