// RoPE, the f16 KV-cache append, and causal attention with sinks and sliding
// windows.
#include "common.cuh"

namespace ossdesk::cuda {
namespace {

// One thread per rotated pair (i, i + half) of a q or k head; blockIdx.y is the token.
__global__ void rope_kernel(float* q, float* k, const float* inv_freq, int q_heads, int kv_heads, int half,
                            float concentration, const std::int32_t* first_position) {
  const int id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= (q_heads + kv_heads) * half) return;
  const int t = blockIdx.y;
  const int head = id / half, i = id - head * half;
  // As cpu::YarnRope: a float angle, cos/sin in double, then the concentration.
  const float angle = static_cast<float>(*first_position + t) * inv_freq[i];
  const float c = static_cast<float>(cos(static_cast<double>(angle))) * concentration;
  const float s = static_cast<float>(sin(static_cast<double>(angle))) * concentration;
  float* v = head < q_heads ? q + (static_cast<std::size_t>(t) * q_heads + head) * 2 * half
                            : k + (static_cast<std::size_t>(t) * kv_heads + (head - q_heads)) * 2 * half;
  const float a = v[i], b = v[i + half];
  v[i] = a * c - b * s;
  v[i + half] = b * c + a * s;
}

__global__ void kv_write_kernel(const float* k, const float* v, __half* keys, __half* values, int kv_dim, int ring,
                                const std::int32_t* first_position) {
  const int t = blockIdx.y;
  const int pos = *first_position + t;
  const std::size_t slot = static_cast<std::size_t>(ring > 0 ? pos % ring : pos);
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < kv_dim; i += gridDim.x * blockDim.x) {
    keys[slot * kv_dim + i] = __float2half_rn(k[static_cast<std::size_t>(t) * kv_dim + i]);
    values[slot * kv_dim + i] = __float2half_rn(v[static_cast<std::size_t>(t) * kv_dim + i]);
  }
}

constexpr int kAttentionThreads = 128;
constexpr int kMaxHeadDim = 256;

// One block per (query head, token). The softmax starts from the sink (max =
// sink, denominator 1) and runs online over chunks of 128 keys: each thread
// scores one key, then threads that own an output dimension add the chunk's
// weighted values.
__global__ void attention_kernel(const float* q, const __half* keys, const __half* values, const float* sinks, float* out,
                                 int heads, int kv_heads, int head_dim, int window, int ring, float scale,
                                 const std::int32_t* first_position) {
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
      const std::size_t slot = static_cast<std::size_t>(ring > 0 ? j % ring : j);
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
        const std::size_t slot = static_cast<std::size_t>(ring > 0 ? key % ring : key);
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

void rope(float* q, float* k, const float* inv_freq, int q_heads, int kv_heads, int half_dim, float concentration,
          const std::int32_t* first_position, int tokens, cudaStream_t s) {
  const int pairs = (q_heads + kv_heads) * half_dim;
  launch(rope_kernel, dim3((pairs + 127) / 128, tokens), 128, s, q, k, inv_freq, q_heads, kv_heads, half_dim,
                                                                 concentration, first_position);
}

void kv_write(const float* k, const float* v, std::uint16_t* keys, std::uint16_t* values, int kv_dim, int ring,
              const std::int32_t* first_position, int tokens, cudaStream_t s) {
  launch(kv_write_kernel, dim3((kv_dim + 255) / 256, tokens), 256, s,
      k, v, reinterpret_cast<__half*>(keys), reinterpret_cast<__half*>(values), kv_dim, ring, first_position);
}

void attention(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks, float* out,
               int heads, int kv_heads, int head_dim, int window, int ring, float scale, const std::int32_t* first_position,
               int tokens, cudaStream_t s) {
  launch(attention_kernel, dim3(heads, tokens), kAttentionThreads, s,
      q, reinterpret_cast<const __half*>(keys), reinterpret_cast<const __half*>(values), sinks, out, heads, kv_heads,
      head_dim, window, ring, scale, first_position);
}

}  // namespace ossdesk::cuda
