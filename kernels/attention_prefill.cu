// Causal attention with sinks and sliding windows for a chunk of tokens on
// tensor cores (flash attention): one block per (tile of 64 queries, query
// head), each warp owning 16 of the queries, over the keys the tile can see
// in tiles of 32. Scores q.k and the weighted sum p.v are wmma products; the
// softmax is online from the sink (max = sink, denominator 1), as
// attention_kernel does it one query at a time.
//
// Precision as tensor_tile.cuh: keys and values come from the f16 cache, so
// f16 holds them exactly; q and p are split into f16 hi + lo, and both halves
// are multiplied.
#include "tensor_tile.cuh"

namespace ossdesk::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kHeadDim = 64;     // gpt-oss; other head sizes run attention_kernel
constexpr int kQueries = 64;     // per block: 4 warps x 16
constexpr int kKeys = 32;        // per step
constexpr int kThreads = 128;
constexpr int kLdHead = kHeadDim + 8;  // halves per staged row of q, k, v
constexpr int kLdScore = kKeys + 8;    // floats per row of scores, halves per row of p
constexpr int kLdOut = kHeadDim + 4;   // floats per row of the output
static_assert(kKeys / 2 == 16 && kHeadDim % 32 == 0, "a lane stages 16 values at a time with tc::stage_rounded");

// A warp's own shared memory: first its queries (hi, lo), then, once they are
// in fragments, its scores, then their weights p (hi, lo) in the same bytes.
union alignas(32) WarpScratch {
  __half q[2][16 * kLdHead];
  float scores[16 * kLdScore];
  __half p[2][16 * kLdScore];
};

struct alignas(32) FlashTiles {
  __half keys[kKeys * kLdHead];    // [key][d]: matrix_b of q.k^T in column-major order
  __half values[kKeys * kLdHead];  // [key][d]: matrix_b of p.v in row-major order
  WarpScratch scratch[kThreads / 32];
  float out[kThreads / 32][16 * kLdOut];  // each warp's unnormalised output rows
};

__global__ void __launch_bounds__(kThreads) flash_attention_kernel(const float* q, const __half* keys, const __half* values,
                                                                   const float* sinks, float* out, int heads, int kv_heads,
                                                                   int window, int ring, float scale,
                                                                   const std::int32_t* first_position, int tokens) {
  await_previous_kernel();
  __shared__ FlashTiles s;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int head = blockIdx.y, kvh = head / (heads / kv_heads);
  const int kv_dim = kv_heads * kHeadDim;
  const int t0 = blockIdx.x * kQueries;
  const int t_end = min(tokens, t0 + kQueries);  // past the last query of the block
  const int first = *first_position;
  WarpScratch& scratch = s.scratch[warp];
  float* o = s.out[warp];

  // The warp's queries as f16 hi + lo fragments, kept for every key step:
  // lanes 2r and 2r + 1 stage half of query row r each, 16 values at a time
  // (rows of 144 bytes, so every 16 values start 16-byte aligned).
  {
    const int r = lane >> 1, t = t0 + warp * 16 + r;
    const float* row = t < tokens ? q + (static_cast<std::size_t>(t) * heads + head) * kHeadDim : nullptr;
    for (int part = 0; part < kHeadDim / 32; ++part) {
      const int d0 = (lane & 1) * (kHeadDim / 2) + 16 * part;
      tc::stage_rounded<__half, true>([&](int i) { return row ? row[d0 + i] : 0.0f; }, scratch.q[0] + r * kLdHead + d0,
                                      scratch.q[1] + r * kLdHead + d0);
    }
  }
  for (int i = lane; i < 16 * kLdOut; i += 32) o[i] = 0.0f;
  __syncwarp();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> q_hi[kHeadDim / 16], q_lo[kHeadDim / 16];
  for (int k = 0; k < kHeadDim / 16; ++k) {
    wmma::load_matrix_sync(q_hi[k], scratch.q[0] + 16 * k, kLdHead);
    wmma::load_matrix_sync(q_lo[k], scratch.q[1] + 16 * k, kLdHead);
  }

  // Lanes 2r and 2r + 1 own query row r of the warp: half of its keys per step,
  // its running max and denominator.
  const int row = lane >> 1, half = lane & 1;
  const int pos = first + t0 + warp * 16 + row;
  const bool live = t0 + warp * 16 + row < tokens;
  float m = sinks[head], l = 1.0f;

  // The keys the block's queries see: from the window of its first query to its last.
  const int key_begin = window > 0 ? max(0, first + t0 + 1 - window) : 0;
  const int key_end = first + t_end;  // past the last
  for (int k0 = key_begin; k0 < key_end; k0 += kKeys) {
    __syncthreads();  // every warp is done with the previous keys and values
    for (int i = threadIdx.x; i < kKeys * kHeadDim / 8; i += kThreads) {
      const int key = i / (kHeadDim / 8), part = i % (kHeadDim / 8);
      const int j = k0 + key;
      uint4 kw = make_uint4(0, 0, 0, 0), vw = make_uint4(0, 0, 0, 0);  // past the chunk: zeros, never stale bits
      if (j < key_end) {
        const std::size_t at = kv_slot(j, ring) * kv_dim + static_cast<std::size_t>(kvh) * kHeadDim + part * 8;
        kw = *reinterpret_cast<const uint4*>(keys + at);
        vw = *reinterpret_cast<const uint4*>(values + at);
      }
      *reinterpret_cast<uint4*>(s.keys + key * kLdHead + part * 8) = kw;
      *reinterpret_cast<uint4*>(s.values + key * kLdHead + part * 8) = vw;
    }
    __syncthreads();

    // Scores of the warp's 16 queries against the 32 keys.
    for (int n = 0; n < kKeys / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> score;
      wmma::fill_fragment(score, 0.0f);
      for (int k = 0; k < kHeadDim / 16; ++k) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> key;
        wmma::load_matrix_sync(key, s.keys + (16 * n) * kLdHead + 16 * k, kLdHead);
        wmma::mma_sync(score, q_lo[k], key, score);
        wmma::mma_sync(score, q_hi[k], key, score);
      }
      wmma::store_matrix_sync(scratch.scores + 16 * n, score, kLdScore, wmma::mem_row_major);
    }
    __syncwarp();

    // The online softmax of row `row` over this step's keys (this lane's half of them).
    float p[kKeys / 2];
    float tile_max = -3.0e38f;
    for (int c = 0; c < kKeys / 2; ++c) {
      const int j = k0 + half * (kKeys / 2) + c;
      const bool seen = live && j <= pos && (window <= 0 || j > pos - window);
      p[c] = seen ? scratch.scores[row * kLdScore + half * (kKeys / 2) + c] * scale : -3.0e38f;
      tile_max = fmaxf(tile_max, p[c]);
    }
    const float m_new = fmaxf(m, fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1)));
    const float alpha = expf(m - m_new);
    float sum = 0.0f;
    for (int c = 0; c < kKeys / 2; ++c) {
      p[c] = p[c] > -1.0e38f ? expf(p[c] - m_new) : 0.0f;
      sum += p[c];
    }
    l = l * alpha + sum + __shfl_xor_sync(0xffffffffu, sum, 1);
    m = m_new;
    __syncwarp();  // every lane has read its scores before p overwrites them
    const int at = row * kLdScore + half * (kKeys / 2);  // 16-byte aligned: the rows are 80 bytes
    tc::stage_rounded<__half, true>([&p](int c) { return p[c]; }, scratch.p[0] + at, scratch.p[1] + at);
    float4* o_half = reinterpret_cast<float4*>(o + row * kLdOut + half * (kHeadDim / 2));  // rows of 272 bytes
    for (int i = 0; i < kHeadDim / 8; ++i) {
      const float4 v = o_half[i];
      o_half[i] = make_float4(v.x * alpha, v.y * alpha, v.z * alpha, v.w * alpha);
    }
    __syncwarp();

    // out = alpha out + p.v, through the accumulators.
    for (int n = 0; n < kHeadDim / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, o + 16 * n, kLdOut, wmma::mem_row_major);
      for (int k = 0; k < kKeys / 16; ++k) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> p_hi, p_lo;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> value;
        wmma::load_matrix_sync(p_hi, scratch.p[0] + 16 * k, kLdScore);
        wmma::load_matrix_sync(p_lo, scratch.p[1] + 16 * k, kLdScore);
        wmma::load_matrix_sync(value, s.values + (16 * k) * kLdHead + 16 * n, kLdHead);
        wmma::mma_sync(acc, p_lo, value, acc);
        wmma::mma_sync(acc, p_hi, value, acc);
      }
      wmma::store_matrix_sync(o + 16 * n, acc, kLdOut, wmma::mem_row_major);
    }
    __syncwarp();
  }

  if (!live) return;
  const int t = t0 + warp * 16 + row;
  float* dst = out + (static_cast<std::size_t>(t) * heads + head) * kHeadDim;
  for (int d = half * (kHeadDim / 2); d < (half + 1) * (kHeadDim / 2); ++d) dst[d] = o[row * kLdOut + d] / l;
}

}  // namespace

bool attention_on_tensor_cores(int head_dim) { return head_dim == kHeadDim; }

void attention_tensor_cores(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks,
                            float* out, int heads, int kv_heads, int window, int ring, float scale,
                            const std::int32_t* first_position, int tokens, cudaStream_t s) {
  launch(flash_attention_kernel, dim3((tokens + kQueries - 1) / kQueries, heads), kThreads, s, q,
         reinterpret_cast<const __half*>(keys), reinterpret_cast<const __half*>(values), sinks, out, heads, kv_heads, window,
         ring, scale, first_position, tokens);
}

}  // namespace ossdesk::cuda
