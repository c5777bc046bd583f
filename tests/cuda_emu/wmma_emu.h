// The emulator's twin of CUDA's warp matrix API (nvcuda::wmma, <mma.h>) for
// the shapes ossdesk's tensor-core kernels use: 16x16x16 tiles, bf16 or f16
// inputs, float accumulators. Included by cuda_emu.h; the kernels include
// <mma.h> only under nvcc.
//
// On a GPU a fragment is spread over the warp's 32 lanes in an unspecified
// layout. Here every lane's fragment holds the whole tile (as float: bf16 and
// f16 convert exactly), which is legal because kernels may not look inside a
// fragment. Each call is a warp-collective point, as on a GPU: all 32 lanes
// must reach it (else the scheduler reports the divergence), and a pointer that
// is not 256-bit aligned or a leading dimension that is not a multiple of 16
// bytes is a launch failure, as the API requires. mma_sync shares the work:
// lane L computes the elements L, L+32, ... and writes them into every lane's
// result, so emulating a warp's product costs about one product.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
class fragment {
 public:
  static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;  // a: M x K, b: K x N, accumulator: M x N
  static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
  static constexpr int num_elements = rows * cols;  // here; on a GPU, this lane's share
  float x[rows * cols];                             // row-major: x[r * cols + c]
};

namespace detail {

inline float to_float(float v) { return v; }
inline float to_float(__half v) { return __half2float(v); }
inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
void check_access(const T* p, unsigned ldm, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(p) % 32 != 0)
    throw std::runtime_error(std::string(what) + ": the pointer is not 256-bit aligned");
  if (ldm * sizeof(T) % 16 != 0)
    throw std::runtime_error(std::string(what) + ": ldm " + std::to_string(ldm) + " is not a multiple of 16 bytes");
}

// Element (r, c) of a rows x cols tile at p, stored row- or column-major.
template <typename T>
float element(const T* p, unsigned ldm, bool row_stored, int r, int c) {
  return to_float(row_stored ? p[static_cast<std::size_t>(r) * ldm + c] : p[static_cast<std::size_t>(c) * ldm + r]);
}

// Publishes this lane's pointer and copies all 32 lanes' pointers to `all`
// (every lane must call; the exchange's buffer is reused two exchanges later).
template <typename F>
void lane_fragments(F* mine, F** all) {
  const std::uint64_t* slots = ossdesk_emu::warp_exchange(0xffffffffu, reinterpret_cast<std::uint64_t>(mine));
  for (int lane = 0; lane < 32; ++lane) all[lane] = reinterpret_cast<F*>(slots[lane]);
}

}  // namespace detail

template <typename Use, int M, int N, int K, typename T, typename Layout>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const T& value) {
  __syncwarp();
  for (float& v : f.x) v = detail::to_float(value);
}

// matrix_a or matrix_b: the layout is the fragment's.
template <typename Use, int M, int N, int K, typename T, typename Layout, typename E>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const E* p, unsigned ldm) {
  static_assert(!std::is_same_v<Use, accumulator>, "an accumulator load names its layout");
  static_assert(std::is_same_v<T, E>, "the pointer's element type is the fragment's");
  __syncwarp();
  detail::check_access(p, ldm, "wmma::load_matrix_sync");
  using F = fragment<Use, M, N, K, T, Layout>;
  const bool row_stored = std::is_same_v<Layout, row_major>;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c) f.x[r * F::cols + c] = detail::element(p, ldm, row_stored, r, c);
}

template <int M, int N, int K>
void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm, layout_t layout) {
  __syncwarp();
  detail::check_access(p, ldm, "wmma::load_matrix_sync");
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) f.x[r * N + c] = detail::element(p, ldm, layout == mem_row_major, r, c);
}

// Lane L stores the elements L, L+32, ...: the warp writes the tile once.
template <int M, int N, int K>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
  __syncwarp();
  detail::check_access(p, ldm, "wmma::store_matrix_sync");
  for (int e = static_cast<int>(ossdesk_emu::lane_id()); e < M * N; e += 32) {
    const int r = e / N, c = e % N;
    p[layout == mem_row_major ? static_cast<std::size_t>(r) * ldm + c : static_cast<std::size_t>(c) * ldm + r] = f.x[e];
  }
  __syncwarp();
}

// d = a b + c, each product exact in float (as bf16/f16 products are) and
// summed in k order.
template <int M, int N, int K, typename T, typename LayoutA, typename LayoutB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LayoutA>& a,
              const fragment<matrix_b, M, N, K, T, LayoutB>& b, const fragment<accumulator, M, N, K, float>& c) {
  using D = fragment<accumulator, M, N, K, float>;
  D* all[32];
  detail::lane_fragments(&d, all);  // also the warp-collective point
  float mine[(M * N + 31) / 32];
  int count = 0;
  for (int e = static_cast<int>(ossdesk_emu::lane_id()); e < M * N; e += 32) {
    const int r = e / N, col = e % N;
    float acc = c.x[e];
    for (int k = 0; k < K; ++k) acc = std::fma(a.x[r * K + k], b.x[k * N + col], acc);
    mine[count++] = acc;
  }
  // Lane L reads only the elements L, L+32, ... of its c (which may be its d),
  // and other lanes write only theirs, so the writes need no barrier before.
  count = 0;
  for (int e = static_cast<int>(ossdesk_emu::lane_id()); e < M * N; e += 32, ++count)
    for (int lane = 0; lane < 32; ++lane) all[lane]->x[e] = mine[count];
  __syncwarp();  // no lane reads its d before every lane has written its share
}

}  // namespace nvcuda::wmma
