// Picking the next token on the device: argmax for greedy decoding, and a
// draw with the host sampler's rules, as threshold searches over the logits
// (the method of shaders/sample.comp; see there for why it matches).
//
// A draw reads the 201088 logits of gpt-oss about 28 times. In one block that
// is one SM's bandwidth and special-function units, hundreds of microseconds
// a token against about a millisecond for the whole greedy step. So every
// pass spreads over kSampleBlocks blocks, and a search settles four bits of
// its threshold a pass (8 passes, not 32): 11 short launches a draw, 9 more
// for each of top-k and top-p, all in the decode graph. The sums are taken in a fixed order (per thread, per
// block, then the blocks in order), so a draw does not depend on timing.
#include <algorithm>
#include <climits>

#include "common.cuh"

namespace ossdesk::cuda {
namespace {

constexpr int kDrawThreads = 256;  // a row of bins each: 16 KB of shared memory
constexpr int kDigitBits = 4, kDigits = 1 << kDigitBits;

__device__ __forceinline__ unsigned key_of(float s) {
  const unsigned b = __float_as_uint(s);
  return (b & 0x80000000u) ? ~b : b | 0x80000000u;
}

// A draw runs as a sequence of passes over the logits, each spread over
// kSampleBlocks blocks (a slice of the vocabulary each); the last block of a
// pass to finish combines the blocks' results in block order and leaves what
// the next pass needs in DrawState.
enum Phase { kTopK, kTopP, kFinal };

struct DrawState {
  unsigned tau;     // the filters' threshold so far (top-k, then top-p)
  unsigned search;  // the threshold being searched, its settled digits
  unsigned chosen;  // the drawn token's key
  int active;       // whether the phase's search runs
  float top;        // the largest scaled logit
  float target;     // the search's target mass (or count)
};

struct Draw {
  const float* logits;
  int n;
  const SampleArgs* args;
  float* partial;  // [kSampleBlocks x kDigits]
  DrawState* state;
  std::uint32_t* arrivals;

  __device__ int begin() const { return static_cast<int>(blockIdx.x) * per_block(); }
  __device__ int end() const { return min(n, begin() + per_block()); }
  __device__ int per_block() const { return (n + static_cast<int>(gridDim.x) - 1) / static_cast<int>(gridDim.x); }
  __device__ bool last_block() const { return last_block_to_arrive(arrivals, gridDim.x); }
  // Block b's value i of this pass, read by the last block.
  __device__ float block_value(int b, int i) const { return static_cast<const volatile float*>(partial)[b * kDigits + i]; }
};

// Whether a phase runs at all with these arguments.
__device__ __forceinline__ bool phase_on(const SampleArgs& a, int phase) {
  return phase == kFinal || (phase == kTopK ? a.top_k > 0 : a.top_p < 1.0f);
}

// What a token adds to the mass of a phase at or above a threshold it passes:
// 1 for top-k's count, else its weight e^(s - top), 0 below min-p's floor in
// the draw. A negative value: the token is not usable (not finite).
struct Weigh {
  float inv_t, top, floor;
  bool count;
  __device__ float operator()(float v, unsigned* key) const {
    if (!isfinite(v)) return -1.0f;
    const float s = v * inv_t;
    *key = key_of(s);
    const float w = expf(s - top);
    if (w < floor) return -1.0f;
    return count ? 1.0f : w;
  }
};
__device__ __forceinline__ Weigh weigh(const SampleArgs& a, float top, int phase) {
  return Weigh{a.inv_temperature, top, phase == kFinal && a.min_p > 0.0f ? a.min_p : 0.0f, phase == kTopK};
}

__global__ void draw_max_kernel(Draw d) {
  await_previous_kernel();
  const float inv_t = d.args->inv_temperature;
  float best = -3.0e38f;
  for (int i = d.begin() + threadIdx.x; i < d.end(); i += blockDim.x)
    if (isfinite(d.logits[i])) best = fmaxf(best, d.logits[i] * inv_t);
  best = block_max(best);
  if (threadIdx.x == 0) d.partial[blockIdx.x * kDigits] = best;
  if (!d.last_block() || threadIdx.x != 0) return;
  float top = -3.0e38f;
  for (int b = 0; b < static_cast<int>(gridDim.x); ++b) top = fmaxf(top, d.block_value(b, 0));
  d.state->top = top;
  d.state->tau = 0;
}

// The phase's mass (top-k: count) at or above its starting threshold, which
// sets the target of its search: top-k: k (when fewer tokens than k are
// usable, no search); top-p: top_p x the mass; the draw: u x the mass.
__global__ void draw_mass_kernel(Draw d, int phase) {
  await_previous_kernel();
  const SampleArgs a = *d.args;
  if (!phase_on(a, phase)) return;
  const Weigh w = weigh(a, d.state->top, phase);
  const unsigned tau = phase == kTopK ? 0u : d.state->tau;
  float mass = 0.0f;
  for (int i = d.begin() + threadIdx.x; i < d.end(); i += blockDim.x) {
    unsigned key = 0;
    const float add = w(d.logits[i], &key);
    if (add >= 0.0f && key >= tau) mass += add;
  }
  mass = block_sum(mass);
  if (threadIdx.x == 0) d.partial[blockIdx.x * kDigits] = mass;
  if (!d.last_block() || threadIdx.x != 0) return;
  float total = 0.0f;
  for (int b = 0; b < static_cast<int>(gridDim.x); ++b) total += d.block_value(b, 0);
  DrawState& st = *d.state;
  st.search = 0;
  st.active = phase == kTopK ? static_cast<float>(a.top_k) < total : 1;
  st.target = phase == kTopK ? static_cast<float>(a.top_k) : (phase == kTopP ? a.top_p : a.u) * total;
}

// One digit (kDigitBits bits, from bit `shift`) of the phase's threshold: the
// largest tau with mass(tau) >= target (> for the draw). Each block sums, for
// every candidate search | dd << shift, the mass at or above it in its slice:
// a thread sorts its tokens by digit into its own row of bins (or `above`, for
// keys above every candidate), then each candidate's mass is a block_sum of the
// threads' suffix sums; the last block adds the blocks up in order and keeps
// the largest digit that reaches the target. The masses grow as the digit
// falls (rounding is monotone), as the one-bit-a-pass search's did.
__global__ void draw_digit_kernel(Draw d, int phase, int shift) {
  await_previous_kernel();
  __shared__ float bins[kDrawThreads * kDigits];
  const SampleArgs a = *d.args;
  if (!phase_on(a, phase) || !d.state->active) return;
  const Weigh w = weigh(a, d.state->top, phase);
  const unsigned search = d.state->search;
  const unsigned settled = shift + kDigitBits == 32 ? 0u : ~0u << (shift + kDigitBits);
  float* mine = bins + threadIdx.x * kDigits;
  for (int dd = 0; dd < kDigits; ++dd) mine[dd] = 0.0f;
  float above = 0.0f;
  for (int i = d.begin() + threadIdx.x; i < d.end(); i += blockDim.x) {
    unsigned key = 0;
    const float add = w(d.logits[i], &key);
    if (add < 0.0f || key < search) continue;  // below every candidate
    if ((key & settled) > search) above += add;
    else mine[key >> shift & (kDigits - 1)] += add;
  }
  float suffix = above;
  for (int dd = kDigits - 1; dd >= 1; --dd) {
    suffix += mine[dd];
    const float m = block_sum(suffix);
    if (threadIdx.x == 0) d.partial[blockIdx.x * kDigits + dd] = m;
  }
  if (!d.last_block() || threadIdx.x != 0) return;
  DrawState& st = *d.state;
  const bool strict = phase == kFinal;
  int digit = 0;
  for (int dd = kDigits - 1; dd >= 1 && digit == 0; --dd) {
    float m = 0.0f;
    for (int b = 0; b < static_cast<int>(gridDim.x); ++b) m += d.block_value(b, dd);
    if (strict ? m > st.target : m >= st.target) digit = dd;
  }
  st.search = search | static_cast<unsigned>(digit) << shift;
  if (shift > 0) return;
  if (phase == kFinal) st.chosen = max(st.tau, st.search);
  else st.tau = max(st.tau, st.search);
}

// Argmax over the blocks' slices: each block's best (ties: the lower id; NaN
// never wins), then the last block takes the best of the blocks in order.
__global__ void argmax_kernel(Draw d, std::int32_t* out) {
  await_previous_kernel();
  __shared__ float best_v[kDrawThreads];
  __shared__ int best_i[kDrawThreads];
  float bv = -INFINITY;
  int bi = -1;
  for (int i = d.begin() + threadIdx.x; i < d.end(); i += blockDim.x) {
    const float v = d.logits[i];
    if (!isnan(v) && (bi < 0 || v > bv)) bv = v, bi = i;  // i ascends: ties keep the lower id
  }
  best_v[threadIdx.x] = bv;
  best_i[threadIdx.x] = bi;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const float v = best_v[threadIdx.x + s];
      const int i = best_i[threadIdx.x + s];
      const int mine = best_i[threadIdx.x];
      if (i >= 0 && (mine < 0 || v > best_v[threadIdx.x] || (v == best_v[threadIdx.x] && i < mine))) {
        best_v[threadIdx.x] = v;
        best_i[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    d.partial[blockIdx.x * kDigits] = best_v[0];
    d.partial[blockIdx.x * kDigits + 1] = __int_as_float(best_i[0]);
  }
  if (!d.last_block() || threadIdx.x != 0) return;
  float v = -INFINITY;
  int id = -1;
  for (int b = 0; b < static_cast<int>(gridDim.x); ++b) {  // slices ascend: a tie keeps the earlier block's id
    const int i = __float_as_int(d.block_value(b, 1));
    const float vb = d.block_value(b, 0);
    if (i >= 0 && (id < 0 || vb > v)) v = vb, id = i;
  }
  out[0] = id < 0 ? 0 : id;
}

// The lowest id whose scaled logit has the drawn key.
__global__ void draw_pick_kernel(Draw d, std::int32_t* out) {
  await_previous_kernel();
  __shared__ int first_id[kDrawThreads];
  const float inv_t = d.args->inv_temperature;
  const unsigned chosen = d.state->chosen;
  int id = INT_MAX;
  for (int i = d.begin() + threadIdx.x; i < d.end(); i += blockDim.x)
    if (isfinite(d.logits[i]) && key_of(d.logits[i] * inv_t) == chosen) {
      id = i;
      break;
    }
  first_id[threadIdx.x] = id;
  __syncthreads();
  for (unsigned step = blockDim.x / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) first_id[threadIdx.x] = min(first_id[threadIdx.x], first_id[threadIdx.x + step]);
    __syncthreads();
  }
  if (threadIdx.x == 0) d.partial[blockIdx.x * kDigits] = __int_as_float(first_id[0]);
  if (!d.last_block() || threadIdx.x != 0) return;
  int best = INT_MAX;
  for (int b = 0; b < static_cast<int>(gridDim.x); ++b) best = min(best, __float_as_int(d.block_value(b, 0)));
  out[0] = best == INT_MAX ? 0 : best;
}

Draw draw_view(const float* logits, int n, const SampleArgs* args, void* scratch) {
  auto* bytes = static_cast<unsigned char*>(scratch);
  const std::size_t partial_bytes = static_cast<std::size_t>(kSampleBlocks) * kDigits * 4;
  return Draw{logits, n, args, reinterpret_cast<float*>(bytes), reinterpret_cast<DrawState*>(bytes + partial_bytes),
              reinterpret_cast<std::uint32_t*>(bytes + partial_bytes + sizeof(DrawState))};
}

int draw_blocks(int n) { return std::max(1, std::min(kSampleBlocks, (n + kDrawThreads - 1) / kDrawThreads)); }

}  // namespace

std::size_t sample_scratch_bytes() { return static_cast<std::size_t>(kSampleBlocks) * kDigits * 4 + sizeof(DrawState) + 4; }

void argmax(const float* logits, int n, void* scratch, std::int32_t* out, cudaStream_t s) {
  launch(argmax_kernel, draw_blocks(n), kDrawThreads, s, draw_view(logits, n, nullptr, scratch), out);
}

void sample(const float* logits, int n, const SampleArgs* args, bool top_k, bool top_p, void* scratch, std::int32_t* out,
            cudaStream_t s) {
  const Draw d = draw_view(logits, n, args, scratch);
  const int blocks = draw_blocks(n);
  launch(draw_max_kernel, blocks, kDrawThreads, s, d);
  for (int phase : {kTopK, kTopP, kFinal}) {
    if ((phase == kTopK && !top_k) || (phase == kTopP && !top_p)) continue;
    launch(draw_mass_kernel, blocks, kDrawThreads, s, d, phase);
    for (int shift = 32 - kDigitBits; shift >= 0; shift -= kDigitBits) launch(draw_digit_kernel, blocks, kDrawThreads, s, d, phase, shift);
  }
  launch(draw_pick_kernel, blocks, kDrawThreads, s, d, out);
}

}  // namespace ossdesk::cuda
