// AVX2 + FMA forms of the Kernels' attention entries (group_scores,
// group_values, exp_shifted_sum; see kernels.h for what they compute), defined
// in attention_avx2.cpp, which is compiled for those instruction sets. Only
// avx2_kernels() hands them out, after checking the CPU.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels.h"

namespace ossdesk::cpu::avx2 {

void group_scores(const float* q, int heads, int dim, const KvRows& rows, float scale, float* scores, float* max);
void group_values(const float* p, int heads, int dim, const KvRows& rows, float* out);
double exp_shifted_sum(float* x, std::int64_t n, float shift);

}  // namespace ossdesk::cpu::avx2
