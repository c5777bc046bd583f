#include "backends/sampling.h"

#include <algorithm>
#include <cmath>

namespace ossdesk {

void SamplerState::reseed(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& s : s_) {
    x += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    s = z ^ (z >> 31);
  }
}

std::uint64_t SamplerState::next_u64() {
  auto rotl = [](std::uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double SamplerState::next_unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

TokenId argmax(std::span<const float> logits) {
  TokenId best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = static_cast<TokenId>(i);
  return best;
}

TokenId sample_token(std::span<float> logits, const SamplingParams& p, SamplerState& state,
                     std::vector<std::pair<float, TokenId>>& cand) {
  if (logits.empty()) return 0;
  if (!(p.temperature > 0.0f)) return argmax(logits);
  const float inv_t = 1.0f / p.temperature;
  cand.clear();
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (std::isfinite(logits[i])) cand.emplace_back(logits[i] * inv_t, static_cast<TokenId>(i));
  if (cand.empty()) return argmax(logits);
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  std::size_t keep = cand.size();
  if (p.top_k > 0 && static_cast<std::size_t>(p.top_k) < keep) {
    keep = static_cast<std::size_t>(p.top_k);
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), cand.end(), by_logit);
    cand.resize(keep);
  } else {
    std::sort(cand.begin(), cand.end(), by_logit);
  }
  // Softmax over the survivors (sorted, so cand[0] is the max).
  const float max_logit = cand[0].first;
  double total = 0;
  for (auto& c : cand) {
    c.first = std::exp(c.first - max_logit);
    total += c.first;
  }
  if (p.top_p < 1.0f) {
    double cum = 0;
    std::size_t n = 0;
    while (n < cand.size()) {
      cum += cand[n].first / total;
      ++n;
      if (cum >= p.top_p) break;
    }
    cand.resize(std::max<std::size_t>(1, n));
  }
  if (p.min_p > 0.0f) {
    const float floor = cand[0].first * p.min_p;  // cand[0] has probability weight 1 (the max)
    std::size_t n = 1;
    while (n < cand.size() && cand[n].first >= floor) ++n;
    cand.resize(n);
  }
  double sum = 0;
  for (const auto& c : cand) sum += c.first;
  double r = state.next_unit() * sum;
  for (const auto& c : cand) {
    r -= c.first;
    if (r < 0) return c.second;
  }
  return cand.back().second;
}

}  // namespace ossdesk
