// RoPE fused with the f16 KV-cache append, and causal attention with sinks and
// sliding windows for chunks of tokens (prefill; decode: attention_decode.cu).
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

// One thread per rotated pair (i, i + half) of a q or k head, then one per
// element of v; blockIdx.y is the token. q is rotated in place; k (rotated)
// and v go straight to the layer's f16 cache.
__global__ void rope_kv_write_kernel(float* q, const float* k, const float* v, const float* inv_freq, int q_heads, int kv_heads,
                                     int half, float concentration, __half* keys, __half* values, int ring,
                                     const std::int32_t* first_position) {
  await_previous_kernel();
  const int id = blockIdx.x * blockDim.x + threadIdx.x;
  const int t = blockIdx.y;
  const int pos = *first_position + t;
  const int kv_dim = kv_heads * 2 * half;
  const std::size_t slot = kv_slot(pos, ring);
  const int pairs = (q_heads + kv_heads) * half;
  if (id >= pairs) {
    const int d = id - pairs;
    if (d < kv_dim) values[slot * kv_dim + d] = __float2half_rn(v[static_cast<std::size_t>(t) * kv_dim + d]);
    return;
  }
  const int head = id / half, i = id - head * half;
  if (head < q_heads) {
    float* h = q + (static_cast<std::size_t>(t) * q_heads + head) * 2 * half;
    float a = h[i], b = h[i + half];
    rope_rotate(pos, inv_freq[i], concentration, a, b);
    h[i] = a;
    h[i + half] = b;
  } else {
    const int kh = head - q_heads;
    const float* h = k + static_cast<std::size_t>(t) * kv_dim + static_cast<std::size_t>(kh) * 2 * half;
    float a = h[i], b = h[i + half];
    rope_rotate(pos, inv_freq[i], concentration, a, b);
    __half* out = keys + slot * kv_dim + static_cast<std::size_t>(kh) * 2 * half;
    out[i] = __float2half_rn(a);
    out[i + half] = __float2half_rn(b);
  }
}

constexpr int kAttentionThreads = 128;

// One block per (query head, token). The softmax starts from the sink (max =
// sink, denominator 1) and runs online over chunks of 128 keys: each thread
// scores one key, then threads that own an output dimension add the chunk's
// weighted values.
__global__ void attention_kernel(const float* q, const __half* keys, const __half* values, const float* sinks, float* out,
                                 int heads, int kv_heads, int head_dim, int window, int ring, float scale,
                                 const std::int32_t* first_position) {
  await_previous_kernel();
  __shared__ float q_s[kMaxHeadDim];
  __shared__ float p_s[kAttentionThreads];
  const int head = blockIdx.x, t = blockIdx.y;
  const int kvh = head / (heads / kv_heads);
  const int kv_dim = kv_heads * head_dim;
  const float* qh = q + (static_cast<std::size_t>(t) * heads + head) * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) q_s[d] = qh[d];
  __syncthreads();

  const int pos = *first_position + t;
  const int first = window > 0 && pos + 1 > window ? pos + 1 - window : 0;
  float m = sinks[head], l = 1.0f;
  float acc[kMaxHeadDim / kAttentionThreads] = {};
  for (int chunk = first; chunk <= pos; chunk += kAttentionThreads) {
    const int j = chunk + threadIdx.x;
    float score = -3.0e38f;
    if (j <= pos) {
      const std::size_t slot = kv_slot(j, ring);
      const __half* key = keys + slot * kv_dim + static_cast<std::size_t>(kvh) * head_dim;
      float dot = 0.0f;
      for (int d = 0; d < head_dim; ++d) dot += q_s[d] * __half2float(key[d]);
      score = dot * scale;
    }
    const float m_new = fmaxf(m, block_max(score));
    const float alpha = expf(m - m_new);
    const float p = j <= pos ? expf(score - m_new) : 0.0f;
    p_s[threadIdx.x] = p;
    l = l * alpha + block_sum(p);  // its barriers also publish p_s
    m = m_new;
    const int n = min(kAttentionThreads, pos + 1 - chunk);
    for (int i = 0; i * kAttentionThreads < head_dim; ++i) {
      const int d = threadIdx.x + i * kAttentionThreads;
      if (d >= head_dim) break;
      float a = acc[i] * alpha;
      for (int jj = 0; jj < n; ++jj) {
        const int key = chunk + jj;
        const std::size_t slot = kv_slot(key, ring);
        a += p_s[jj] * __half2float(values[slot * kv_dim + static_cast<std::size_t>(kvh) * head_dim + d]);
      }
      acc[i] = a;
    }
    __syncthreads();  // p_s is rewritten by the next chunk
  }
  float* o = out + (static_cast<std::size_t>(t) * heads + head) * head_dim;
  for (int i = 0; i * kAttentionThreads < head_dim; ++i) {
    const int d = threadIdx.x + i * kAttentionThreads;
    if (d < head_dim) o[d] = acc[i] / l;
  }
}

}  // namespace

void rope_kv_write(float* q, const float* k, const float* v, int q_heads, int kv_heads, const RopeKvAppend& rope, int tokens,
                   cudaStream_t s) {
  const int half = rope.half_dim;
  const int threads = (q_heads + kv_heads) * half + kv_heads * 2 * half;
  launch(rope_kv_write_kernel, dim3((threads + 127) / 128, tokens), 128, s, q, k, v, rope.inv_freq, q_heads, kv_heads, half,
         rope.concentration, reinterpret_cast<__half*>(rope.keys), reinterpret_cast<__half*>(rope.values), rope.ring,
         rope.first_position);
}

void attention(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks, float* out,
               int heads, int kv_heads, int head_dim, int window, int ring, float scale, const std::int32_t* first_position,
               int tokens, cudaStream_t s) {
  launch(attention_kernel, dim3(heads, tokens), kAttentionThreads, s,
      q, reinterpret_cast<const __half*>(keys), reinterpret_cast<const __half*>(values), sinks, out, heads, kv_heads,
      head_dim, window, ring, scale, first_position);
}

}  // namespace ossdesk::cuda
