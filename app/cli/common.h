// Pieces several subcommands share: opening a model and a backend from the
// common options (--model, --backend, --device, --threads, --context,
// --profile) and printing timings.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "args.h"
#include "backends/backend.h"
#include "model/model.h"
#include "ossdesk/engine.h"

namespace ossdesk::cli {

// Options every model-running command accepts.
extern const std::set<std::string> kBackendOptions;  // backend, device, threads, context
std::set<std::string> with_backend_options(std::set<std::string> more);

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Backend> backend;
  BackendChoice choice;
};

// Opens --model and creates the backend (--backend, default `default_backend`)
// with room for at least `min_context` tokens.
LoadedModel load_model(const Args& args, int min_context, const std::string& default_backend, bool profile = false);

// Engine options from --backend, --device, --threads, --context, --batch.
EngineOptions engine_options(const Args& args);

std::string human_bytes(std::uint64_t bytes);  // "12.8 GiB"

// {"place": "reading", "bytes": ..., "bytes_read": ..., "note": "..."}; the
// bytes only where the weights are read from host memory or disk.
nlohmann::json weights_json(const WeightsStatus& status);

// With --profile: the backend's per-op times (GPU timestamps on Vulkan) to stderr, slowest first.
void print_profile(Backend& backend);
void print_profile(std::vector<OpTiming> ops, const std::string& backend, const std::string& device);

}  // namespace ossdesk::cli
