// Benchmark results (from `ossdesk-cli bench`) kept for the speed panel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ossdesk/storage/types.h"

namespace ossdesk::storage {

class Database;

struct BenchmarkResult {
  RowId id = 0;                // assigned by add_benchmark_result
  std::int64_t created_ms = 0; // 0: now
  std::string model{};
  std::string backend{};
  std::string device{};
  std::optional<std::int64_t> prompt_tokens{};
  std::optional<std::int64_t> generated_tokens{};
  std::optional<double> prefill_tokens_per_s{};
  std::optional<double> decode_tokens_per_s{};
  std::optional<double> ttft_ms{};
  std::string details_json = "{}";  // the full bench report, as JSON text
  bool operator==(const BenchmarkResult&) const = default;
};

RowId add_benchmark_result(Database& db, const BenchmarkResult& result);
// Newest first; `model` empty means all models; `limit` 0 means no limit.
std::vector<BenchmarkResult> list_benchmark_results(Database& db, const std::string& model = {}, std::size_t limit = 0);
bool delete_benchmark_result(Database& db, RowId id);  // false when absent

}  // namespace ossdesk::storage
