// Benchmark results table (see benchmarks.h).
#include "ossdesk/storage/benchmarks.h"

#include "ossdesk/storage/database.h"
#include "sqlite_util.h"

namespace ossdesk::storage {
using detail::Statement;

RowId add_benchmark_result(Database& db, const BenchmarkResult& r) {
  Statement st(db,
               "INSERT INTO benchmark_results (created_ms, model, backend, device, prompt_tokens, generated_tokens, "
               "prefill_tokens_per_s, decode_tokens_per_s, ttft_ms, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "saving a benchmark result");
  st.bind(1, r.created_ms ? r.created_ms : now_ms())
      .bind(2, r.model)
      .bind(3, r.backend)
      .bind(4, r.device)
      .bind(5, r.prompt_tokens)
      .bind(6, r.generated_tokens)
      .bind(7, r.prefill_tokens_per_s)
      .bind(8, r.decode_tokens_per_s)
      .bind(9, r.ttft_ms)
      .bind(10, r.details_json)
      .run();
  return sqlite3_last_insert_rowid(db.handle());
}

std::vector<BenchmarkResult> list_benchmark_results(Database& db, const std::string& model, std::size_t limit) {
  Statement st(db,
               "SELECT id, created_ms, model, backend, device, prompt_tokens, generated_tokens, prefill_tokens_per_s,"
               " decode_tokens_per_s, ttft_ms, details FROM benchmark_results"
               " WHERE ?1 = '' OR model = ?1 ORDER BY created_ms DESC, id DESC LIMIT ?2",
               "reading benchmark results");
  st.bind(1, model).bind(2, limit ? static_cast<std::int64_t>(limit) : std::int64_t{-1});
  std::vector<BenchmarkResult> out;
  while (st.step()) {
    BenchmarkResult r;
    r.id = st.int64(0);
    r.created_ms = st.int64(1);
    r.model = st.text(2);
    r.backend = st.text(3);
    r.device = st.text(4);
    r.prompt_tokens = st.opt_int64(5);
    r.generated_tokens = st.opt_int64(6);
    r.prefill_tokens_per_s = st.opt_real(7);
    r.decode_tokens_per_s = st.opt_real(8);
    r.ttft_ms = st.opt_real(9);
    r.details_json = st.text(10);
    out.push_back(std::move(r));
  }
  return out;
}

bool delete_benchmark_result(Database& db, RowId id) {
  Statement st(db, "DELETE FROM benchmark_results WHERE id = ?", "deleting a benchmark result");
  st.bind(1, id).run();
  return sqlite3_changes(db.handle()) > 0;
}

}  // namespace ossdesk::storage
