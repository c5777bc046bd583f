#!/bin/bash
# Runs the GPU tests (Vulkan, CUDA) and the 20b benchmark on a lent GPU machine
# (no Qt or Vulkan loader installed there), from the repository root.
# Prepare here first with packaging/gpu-prepare.sh (it fills .gl/ and .devlibs/),
# and carry both folders with the run.
# Usage: gpu-bench.sh [all|tests|bench|bench-cuda|bench-vulkan] (one 600 s call fits tests or one bench-*)
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
mkdir -p /tmp/l && tar xJf .devlibs/libs.tar.xz -C /tmp/l
export LD_LIBRARY_PATH=/tmp/l
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; fi
mkdir -p /work && ln -sfn "$PWD" /work/main && mkdir -p build/test-work
B=.devlibs/bin
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
MODE=${1:-all}
if [ "$MODE" = all ] || [ "$MODE" = tests ]; then
  $B/vulkan_ops2 2>&1 | grep -E "device:|Totals|FAIL" | head
  $B/vulkan_ops 2>&1 | grep -E "Totals|FAIL" | head
  $B/vulkan_sampling 2>&1 | grep -E "Totals|FAIL" | head
  $B/vulkan_experts 2>&1 | grep -E "Totals|FAIL" | head
  $B/vulkan_model 2>&1 | grep -E "device:|Totals|FAIL|max" | head -40
  # The op suites again under the validation layer (OSSDESK_VULKAN_VALIDATION=1):
  # what the NVIDIA driver's limits and features make of our API use.
  for t in vulkan_ops vulkan_ops2 vulkan_sampling vulkan_experts; do
    OSSDESK_VULKAN_VALIDATION=1 $B/$t > $OUT/validated_$t.txt 2>&1
    echo "$t validated: $(grep -E '^Totals' $OUT/validated_$t.txt), $(grep -c 'vulkan validation' $OUT/validated_$t.txt) validation messages"
    grep -o 'vulkan validation: [a-z]*: Validation [A-Za-z ]*: \[ [A-Za-z0-9_-]* \]' $OUT/validated_$t.txt | sort | uniq -c | head -5
  done
  $B/cuda_loader 2>&1 | grep -E "CUDA devices|Totals|FAIL" | head
  $B/cuda_ops 2>&1 | grep -E "Totals|FAIL|Loc|max" | head -40
  $B/cuda_model 2>&1 | grep -E "device:|Totals|FAIL|max|Loc|Actual|Expected" | head -60
fi
# The measurements: decode and a 2048-token prefill at depth 0 and 4096,
# per backend; on CUDA also the variants to compare in one run (dp4a experts,
# programmatic launch, prefill without tensor cores, in one chunk, or with
# single tensor products, drawn decode), and the per-kernel profile; on Vulkan also drawn decode.
run_bench() {  # name, then bench arguments; JSON to $OUT/bench_<name>.json, summary (or the error) to stdout
  if ! $B/ossdesk-cli bench --model /tmp/20b.gguf --context 8192 --runs 3 --json "${@:2}" > $OUT/bench_$1.json 2>>$OUT/bench_err.txt; then
    echo "$1 failed: $(grep -i error $OUT/bench_err.txt | tail -1)"
    return 0
  fi
  python3 -c "import json;d=json.load(open('$OUT/bench_$1.json'));print('$1', {k:d[k] for k in d if k in ('driver','decode_tokens_per_s','prefill_tokens_per_s','ttft_ms','decode_gb_per_s','decode_bandwidth_limit_tokens_per_s','decode_fraction_of_limit')})"
}
# Vulkan does not report the memory bandwidth; the CUDA driver does (`info`'s device list).
cuda_peak_gbps() { $B/ossdesk-cli info --model /tmp/20b.gguf | sed -n 's/^ *cuda .*, \([0-9]*\) GB\/s peak).*/\1/p' | head -1; }
if [ "$MODE" != tests ] && [ ! -f /tmp/20b.gguf ]; then
  /usr/bin/time -f "synth %e s" $B/ossdesk-cli synth --preset 20b --format gguf --out /tmp/20b.gguf | tail -1
fi
if [ "$MODE" = all ] || [ "$MODE" = bench ] || [ "$MODE" = bench-cuda ]; then
  run_bench cuda_d0 --backend cuda --pp 2048 --tg 128
  run_bench cuda_d4096 --backend cuda --depth 4096 --pp 2048 --tg 128
  OSSDESK_CUDA_EXPERT_DP4A=1 run_bench cuda_dp4a_d0 --backend cuda --pp 2048 --tg 128
  OSSDESK_CUDA_PDL=1 run_bench cuda_pdl_d0 --backend cuda --pp 2048 --tg 128
  OSSDESK_CUDA_TENSOR_CORES=0 run_bench cuda_no_tensor_cores_d0 --backend cuda --pp 2048 --tg 16
  # One 2048-token chunk instead of four of 512: the grouped expert tiles (64 rows of one expert) fill better.
  run_bench cuda_batch2048_d0 --backend cuda --batch 2048 --pp 2048 --tg 16
  # The same with one bf16/f16 product per tensor-core step instead of hi + lo: what the split costs.
  OSSDESK_CUDA_TENSOR_PRECISION=single run_bench cuda_single_batch2048_d0 --backend cuda --batch 2048 --pp 2048 --tg 16
  # Decode drawn over the whole vocabulary (a chat's default) rather than greedy: what the device sampler costs.
  run_bench cuda_drawn_d0 --backend cuda --pp 512 --tg 128 --temperature 1
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend cuda --context 8192 --pp 2048 --tg 64 --runs 1 --profile 2>&1 | tail -30
fi
if [ "$MODE" = all ] || [ "$MODE" = bench ] || [ "$MODE" = bench-vulkan ]; then
  PEAK=$(cuda_peak_gbps)
  echo "peak bandwidth for Vulkan's ratio: ${PEAK:-unknown} GB/s"
  run_bench vulkan_d0 --backend vulkan --pp 2048 --tg 128 ${PEAK:+--peak-gbps $PEAK}
  run_bench vulkan_d4096 --backend vulkan --depth 4096 --pp 2048 --tg 128 ${PEAK:+--peak-gbps $PEAK}
  run_bench vulkan_drawn_d0 --backend vulkan --pp 512 --tg 128 --temperature 1 ${PEAK:+--peak-gbps $PEAK}
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend vulkan --context 8192 --pp 2048 --tg 64 --runs 1 --profile 2>&1 | tail -30
fi
tail -5 $OUT/bench_err.txt 2>/dev/null
