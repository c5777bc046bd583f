#!/bin/bash
# Runs the GPU tests (Vulkan, CUDA) and the 20b benchmark on a lent GPU machine
# (no Qt or Vulkan loader installed there), from the repository root. Prepare here first:
#   .gl/       the Vulkan loader .debs (apt-get download libvulkan1 libegl1 libglvnd0 ...)
#   .devlibs/  libs.tar.xz (Qt6Core/Qt6Test and their ICU etc. from this machine),
#              bin/ (ossdesk-cli, vulkan_ops, vulkan_ops2, vulkan_model, cuda_loader, cuda_model
#              from build/, stripped) and lib/libossdesk_cuda.so (found as bin/../lib)
# both listed in .git/info/exclude and carried with the run. Usage: gpu-bench.sh [all|tests|bench]
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
  $B/vulkan_model 2>&1 | grep -E "device:|Totals|FAIL|max" | head -40
  $B/cuda_loader 2>&1 | grep -E "CUDA devices|Totals|FAIL" | head
  $B/cuda_model 2>&1 | grep -E "device:|Totals|FAIL|max|Loc|Actual|Expected" | head -60
fi
if [ "$MODE" = all ] || [ "$MODE" = bench ]; then
  /usr/bin/time -f "synth %e s" $B/ossdesk-cli synth --preset 20b --format gguf --out /tmp/20b.gguf | tail -1
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend vulkan --pp 512 --tg 128 --runs 3 --json > $OUT/bench_vulkan.json 2>$OUT/bench_err.txt; tail -3 $OUT/bench_err.txt
  python3 -c "import json;d=json.load(open('$OUT/bench_vulkan.json'));print({k:d[k] for k in d if k in ('decode_tokens_per_s','prefill_tokens_per_s','ttft_ms','weight_bytes_per_token','load_s','decode_weight_gb_per_s')})"
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend vulkan --pp 512 --tg 64 --runs 1 --profile 2>&1 | tail -30
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend vulkan --context 8192 --depth 4096 --pp 512 --tg 64 --runs 1 2>&1 | tail -4
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend cuda --pp 512 --tg 128 --runs 3 --json > $OUT/bench_cuda.json 2>$OUT/bench_cuda_err.txt; tail -3 $OUT/bench_cuda_err.txt
  $B/ossdesk-cli bench --model /tmp/20b.gguf --backend cuda --pp 512 --tg 64 --runs 1 --profile 2>&1 | tail -30
fi
