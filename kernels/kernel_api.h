// The CUDA kernels as the host side (engine/src/backends/cuda/) calls them:
// one launcher per op, each enqueued on `stream`, all arguments device
// pointers unless said otherwise. Plain C++ (no CUDA syntax) so host files
// compiled by the C++ compiler can include it.
//
// Device layouts (cuda_weights.cpp makes them):
//   dense matrix: rows `row_stride` bytes apart (a multiple of 16), as stored
//                 for F32, F16 and BF16; a Q8_0 row is rearranged as its cols
//                 int8 codes, then its cols/32 f16 scales, so a block's codes
//                 are two aligned 16-byte loads (cuda_weights: dense_device_rows);
//   MXFP4 experts: per expert rows x cols/2 bytes, byte j of a row holding
//                 elements 2j (low nibble) and 2j+1 (high), then a separate
//                 E8M0 scale array rows x cols/32 per expert;
//   KV cache: f16, [slots x kv_dim] per layer, slot = position % ring (ring > 0) or position.
//
// What changes from one decode step to the next (the first position of the
// chunk, the sampling arguments) is read from device memory, never passed by
// value, so one decode step captured as a CUDA graph replays for every token.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace ossdesk::cuda {

// The attention kernels keep a head (or a group's heads) in shared memory.
constexpr int kMaxHeadDim = 256;

// Programmatic dependent launch for the launches that follow, process-wide
// (off by default; the backend sets it to its own choice, on for sm_90 and
// later with OSSDESK_CUDA_PDL=1, before it enqueues): each kernel may start
// while the one before it ends (common.cuh, await_previous_kernel). Either
// setting computes the same; launch.cu holds the switch.
void set_programmatic_launch(bool on);
bool programmatic_launch();

constexpr int kDenseF32 = 0, kDenseF16 = 1, kDenseBF16 = 2, kDenseQ8 = 3;

struct DenseMatrix {
  const std::uint8_t* data = nullptr;
  int format = kDenseF32;
  int rows = 0, cols = 0;
  std::uint64_t row_stride = 0;  // bytes
};

// The draw's arguments, in device memory (see sample()).
struct SampleArgs {
  float inv_temperature = 1;
  int top_k = 0;
  float top_p = 1;
  float min_p = 0;
  float u = 0;  // the uniform in [0, 1) from the host's generator
};

struct ExpertMatrices {
  const std::uint8_t* nibbles = nullptr;  // [experts x rows x cols/2]
  const std::uint8_t* scales = nullptr;   // [experts x rows x cols/32]
  int rows = 0, cols = 0;
};

// One matrix of a fused product: y[t * y_stride + r] = W[r] . x[t] + bias[r]
// (+= with accumulate).
struct MatvecPart {
  DenseMatrix w;
  const float* bias = nullptr;
  float* y = nullptr;
  int y_stride = 0;
  bool accumulate = false;
};
constexpr int kMaxMatvecParts = 3;
// Inputs a kernel stages in shared memory (fused products, the router) have at most this many columns.
constexpr int kMaxStagedCols = 8192;

// x[t][:] = embedding row tokens[t].
void embed(const DenseMatrix& embedding, const std::int32_t* tokens, int count, float* x, cudaStream_t s);
// out[t] = x[t] / rms(x[t]) * weight, per row of `dim`.
void rmsnorm(const float* x, const float* weight, float* out, int rows, int dim, float eps, cudaStream_t s);
// y[t * y_stride + r] (=, or += with accumulate) W[r] . x[t * x_stride] + bias[r].
void matvec(const DenseMatrix& w, const float* x, int x_stride, const float* bias, float* y, int y_stride, int tokens,
            bool accumulate, cudaStream_t s);
// Up to kMaxMatvecParts products sharing the input x (q, k and v; or one
// matrix), in one launch; x is first normalised by RMSNorm with norm_weight
// when that is given (rmsnorm() fused into its consumer). The parts share one
// stored format and cols <= kMaxStagedCols (matvec_fusable says).
bool matvec_fusable(const MatvecPart* parts, int count);
void matvec_fused(const MatvecPart* parts, int count, const float* x, int x_stride, const float* norm_weight, float eps,
                  int tokens, cudaStream_t s);
// Where YaRN RoPE and the KV append of a layer go: the rotation's inverse
// frequencies and concentration, the layer's f16 cache (a ring of `ring`
// slots, or 0: slot = position), and the chunk's first position in device
// memory (token t is at *first_position + t).
struct RopeKvAppend {
  const float* inv_freq = nullptr;  // [half_dim]
  int half_dim = 0;
  float concentration = 1;
  std::uint16_t* keys = nullptr;  // the layer's f16 cache
  std::uint16_t* values = nullptr;
  int ring = 0;
  const std::int32_t* first_position = nullptr;
};
// RoPE on q [tokens x q_heads*head_dim] (in place) and k, fused with the
// append of k (rotated) and v to the cache.
void rope_kv_write(float* q, const float* k, const float* v, int q_heads, int kv_heads, const RopeKvAppend& rope, int tokens,
                   cudaStream_t s);
// Both in one launch (qkv_rope.cu): the q, k and v parts of matvec_fused, in
// that order, then RoPE and the append as rope_kv_write does them. q lands
// rotated in parts[0].y; k and v go to the cache only (parts[1].y and
// parts[2].y are not written). qkv_rope_fusable says whether the parts fit:
// matvec_fusable, rows whole heads, k and v alike, no accumulate.
bool qkv_rope_fusable(const MatvecPart* parts, const RopeKvAppend& rope);
void qkv_rope_fused(const MatvecPart* parts, const float* x, int x_stride, const float* norm_weight, float eps,
                    const RopeKvAppend& rope, int tokens, cudaStream_t s);
// Causal attention with sinks and an optional window (0 = full) over the f16 cache.
void attention(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks, float* out, int heads,
               int kv_heads, int head_dim, int window, int ring, float scale, const std::int32_t* first_position, int tokens,
               cudaStream_t s);
// The same on tensor cores (flash attention, attention_prefill.cu), for head_dim 64.
bool attention_on_tensor_cores(int head_dim);
void attention_tensor_cores(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks,
                            float* out, int heads, int kv_heads, int window, int ring, float scale,
                            const std::int32_t* first_position, int tokens, cudaStream_t s);
// Decode attention (one token at *position) as flash-decoding, in one launch:
// `splits` blocks per kv head each serve the kDecodeMaxGroup or fewer query
// heads of that kv head over a share of the keys and leave partial softmaxes;
// the last of them to finish merges them with the sinks into out.
constexpr int kDecodeMaxGroup = 8;  // query heads per kv head
constexpr int kMaxDecodeSplits = 32;
struct DecodeSplits {
  float* partial;            // [kMaxDecodeSplits x heads x (head_dim + 2)]: per split and head, max, sum, weighted values
  std::uint32_t* arrivals;   // [kv_heads] blocks finished per kv head: zero before the first launch, left zero by each
};
int attention_decode_splits(int max_keys);  // how many splits for a layer that sees up to max_keys keys
void attention_decode(const float* q, const std::uint16_t* keys, const std::uint16_t* values, const float* sinks, float* out,
                      int heads, int kv_heads, int head_dim, int window, int ring, float scale,
                      const std::int32_t* position, int splits, DecodeSplits scratch, cudaStream_t s);
// Rows of activations quantized to 8 bits for the dp4a expert products: per
// 32-value block, a float scale d = max |x| / 127 and codes round(x / d), in
// the values' order (as the MXFP4 codes, so half a word of weights meets a
// word of activations). codes null: not used.
struct Q8Rows {
  std::int8_t* codes = nullptr;  // [rows x cols]
  float* scales = nullptr;       // [rows x cols/32]
};

// Router, fused with the MLP's RMSNorm: normed[t] = rmsnorm(x[t]) * norm_weight
// (kept for the experts, and quantized into normed_q8 when given), logits =
// W normed + bias, top-k (ties: lower index), softmax over the k.
// cols <= kMaxStagedCols, experts <= kMaxExperts, k <= kMaxExpertsPerToken.
//
// A chunk of up to kRouterSplitTokens tokens (decode) splits each token's
// logits over blocks that each take a slice of the columns, so that the router
// is read by many SMs rather than one; the last block of a token to finish
// adds the slices up and picks. Its scratch (RouterSplits) is then required.
constexpr int kMaxExperts = 128;
constexpr int kMaxExpertsPerToken = 8;
constexpr int kRouterSplitTokens = 16;
constexpr int kMaxRouterSplits = 16;
struct RouterSplits {
  float* partial = nullptr;            // [kRouterSplitTokens x kMaxRouterSplits x experts] logits per slice
  std::uint32_t* arrivals = nullptr;   // [kRouterSplitTokens] blocks finished per token: zero before the first launch, left zero
};
void router_topk(const DenseMatrix& w, const float* bias, const float* x, const float* norm_weight, float eps, float* normed,
                 const Q8Rows& normed_q8, int tokens, int k, std::int32_t* index, float* weight, const RouterSplits& splits,
                 cudaStream_t s);
// act[(t*k + j) * inter + i] = swiglu(gate_e[i] . x[t] + gate_bias, up_e[i] . x[t] + up_bias), e = index[t*k + j];
// on x_q8 by dp4a when its codes are given.
void moe_gate_up(const ExpertMatrices& gate, const ExpertMatrices& up, const float* gate_bias, const float* up_bias,
                 const float* x, const Q8Rows& x_q8, const std::int32_t* index, int tokens, int k, float limit, float* act,
                 cudaStream_t s);
// x[t][h] += sum_j weight[t*k + j] * (down_e[h] . act[t*k + j] + down_bias_e[h]); when act_q8's
// codes are given, act is first quantized into it and the products run by dp4a.
void moe_down(const ExpertMatrices& down, const float* down_bias, const float* act, const Q8Rows& act_q8,
              const std::int32_t* index, const float* weight, int tokens, int k, float* x, cudaStream_t s);
// Prefill on tensor cores (tensor_tile.cuh): the same products as matvec_fused
// and moe_gate_up/moe_down for a chunk of tokens, as tiled GEMMs. Worth it
// from a few tokens on; the host decides (cuda_backend.cpp).
//
// How the tensor-core products round their float input (tensor_tile.cuh):
// Split keeps about 16 significant bits as hi + lo halves, two products a step
// (three for Q8_0 weights, which are split too); Single rounds input and
// weights to one bf16 (8 bits; BF16 and MXFP4 weights) or f16 (11 bits; F16
// and Q8_0) and multiplies once.
enum class TensorPrecision { Split, Single };

// The input of the tensor-core products, rounded once per chunk by
// tensor_rows() rather than by every block that reads it (each column tile of
// a GEMM reads every row: the experts' gate/up 90 times over in gpt-oss-20b).
// Row r is 2 * cols 16-bit values (bf16 or f16 bits, the weights' operand
// type): its cols values rounded to nearest (hi), then, in split precision,
// what that rounding left of each, rounded in turn (lo; not written in single
// precision, the space left).
enum class TensorOperand { BF16, F16 };
// The type dense weights multiply in: BF16 in bf16; F16 and Q8_0 in f16.
TensorOperand gemm_operand(int format);
// out = the rows of x (normalised by RMSNorm with norm_weight when it is not
// null, the same bits as rmsnorm()), rounded for the products. cols and
// x_stride even.
void tensor_rows(const float* x, int x_stride, const float* norm_weight, float eps, int rows, int cols, TensorOperand type,
                 TensorPrecision precision, std::uint16_t* out, cudaStream_t s);

// The dense parts: one format of F16, BF16 or Q8_0 (gemm_fusable says), cols a
// multiple of 32; x_rows from tensor_rows() in gemm_operand(format).
bool gemm_fusable(const MatvecPart* parts, int count);
void gemm(const MatvecPart* parts, int count, const std::uint16_t* x_rows, int tokens, TensorPrecision precision,
          cudaStream_t s);

// The experts: group_by_expert lists the assignments a = t*k + j of each expert
// in order (rows), cut into tiles of up to 64 rows of one expert; then
// gate/up + SwiGLU and down + weight per tile, and the k outputs of each token
// summed in order into the residual x. expert_out is [tokens*k x hidden].
// The input (x_rows, a row per token) and the SwiGLU output (act_rows, a row
// per assignment, which the down products read) are tensor_rows() layouts in
// bf16, the MXFP4 weights' operand type; act_rows takes 4 bytes a value.
struct ExpertGroups {
  std::int32_t* rows = nullptr;         // [assignments]: grouped by expert
  std::int32_t* tile_expert = nullptr;  // [max tiles]
  std::int32_t* tile_begin = nullptr;   // [max tiles]: index into rows
  std::int32_t* tile_size = nullptr;    // [max tiles]
  std::int32_t* tile_count = nullptr;   // [1]
};
int expert_group_max_tiles(int assignments, int experts);
bool moe_groupable(const ExpertMatrices& gate, const ExpertMatrices& down, int experts);
void group_by_expert(const std::int32_t* index, int assignments, int experts, const ExpertGroups& g, cudaStream_t s);
void moe_gate_up_grouped(const ExpertMatrices& gate, const ExpertMatrices& up, const float* gate_bias, const float* up_bias,
                         const std::uint16_t* x_rows, int tokens, int k, int experts, const ExpertGroups& g, float limit,
                         std::uint16_t* act_rows, TensorPrecision precision, cudaStream_t s);
void moe_down_grouped(const ExpertMatrices& down, const float* down_bias, const std::uint16_t* act_rows, const float* weight,
                      int tokens, int k, int experts, const ExpertGroups& g, float* expert_out, float* x,
                      TensorPrecision precision, cudaStream_t s);

// Both picks spread their passes over the logits over kSampleBlocks blocks,
// which share `scratch` (sample_scratch_bytes(), zeroed before the first
// pick, left reusable).
constexpr int kSampleBlocks = 64;
std::size_t sample_scratch_bytes();
// out[0] = argmax of logits[0..n) (ties: the lower id; NaN never wins).
void argmax(const float* logits, int n, void* scratch, std::int32_t* out, cudaStream_t s);
// out[0] = a draw with the host sampler's rules (backends/sampling.h): scaled by
// inv_temperature, then top-k (0 off), top-p (1 off), min-p (0 off), and the
// uniform u in [0, 1) from the host's generator. The top-k and top-p passes
// are launched only when asked for (and then skip themselves when the
// arguments turn the filter off).
void sample(const float* logits, int n, const SampleArgs* args, bool top_k, bool top_p, void* scratch, std::int32_t* out,
            cudaStream_t s);

}  // namespace ossdesk::cuda
