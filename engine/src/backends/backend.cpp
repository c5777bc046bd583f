#include "backends/backend.h"

#include <algorithm>
#include <cstdio>

#include "ossdesk/error.h"

namespace ossdesk {

TokenId Backend::forward_and_sample(std::span<const TokenId> tokens, const SamplingParams& params, SamplerState& state) {
  host_logits_.resize(static_cast<std::size_t>(vocab_size()));
  forward(tokens, LogitsMode::Last, host_logits_.data());
  return sample_token(host_logits_, params, state, host_candidates_);
}

void check_forward_input(const Backend& b, std::span<const TokenId> tokens) {
  if (static_cast<std::size_t>(b.position()) + tokens.size() > static_cast<std::size_t>(b.context_length()))
    fail_input("context full: " + std::to_string(b.position()) + " + " + std::to_string(tokens.size()) +
               " tokens exceed the context length of " + std::to_string(b.context_length()));
  for (TokenId t : tokens)
    if (t < 0 || t >= b.vocab_size())
      fail_input("token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(b.vocab_size() - 1) + ")");
}

void forward_in_chunks(std::span<const TokenId> tokens, LogitsMode mode, float* logits, std::size_t chunk,
                       std::size_t vocab, const std::function<void(std::span<const TokenId>, LogitsMode, float*)>& run) {
  for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const std::size_t n = std::min(chunk, tokens.size() - begin);
    const bool last = begin + n == tokens.size();
    const LogitsMode m = mode == LogitsMode::All ? LogitsMode::All : (last ? mode : LogitsMode::None);
    run(tokens.subspan(begin, n), m, mode == LogitsMode::All ? logits + begin * vocab : logits);
  }
}

std::string gib_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

void add_timing(std::vector<OpTiming>& sink, const std::string& op, double ms, std::uint64_t calls) {
  auto it = std::find_if(sink.begin(), sink.end(), [&](const OpTiming& t) { return t.op == op; });
  if (it == sink.end()) it = sink.insert(sink.end(), OpTiming{op, 0.0, 0});
  it->total_ms += ms;
  it->calls += calls;
}

}  // namespace ossdesk
