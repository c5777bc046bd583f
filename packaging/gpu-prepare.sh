#!/bin/bash
# Prepares, on the build machine, what packaging/gpu-bench.sh needs on a lent
# GPU machine (which has the NVIDIA driver but no Qt, no Vulkan loader and no
# package registry), in two folders that .git/info/exclude ignores and the
# device tool carries:
#   .gl/       the Vulkan and GL loader packages and the Khronos validation
#              layer (.deb), unpacked there
#   .devlibs/  bin/ (ossdesk-cli and the GPU test programs, stripped),
#              lib/libossdesk_cuda.so (found as bin/../lib), and libs.tar.xz:
#              every shared library the programs use beyond the C and C++
#              runtimes and the drivers
# Usage: packaging/gpu-prepare.sh [BUILD_DIR]   (default build; build it first)
# Then: run(command="bash packaging/gpu-bench.sh tests", carry=[".gl", ".devlibs"]).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")" && touch "$exclude"
for dir in /.gl/ /.devlibs/; do
  grep -qxF "$dir" "$exclude" || echo "$dir" >>"$exclude"
done

if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${apt_opts[@]}" update >/dev/null
  (cd .gl && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
    vulkan-validationlayers)
fi

programs=("$BUILD/bin/ossdesk-cli")
for t in vulkan_ops vulkan_ops2 vulkan_sampling vulkan_experts vulkan_model cuda_loader cuda_ops cuda_model; do programs+=("$BUILD/tests/bin/$t"); done
for p in "${programs[@]}" "$BUILD/lib/libossdesk_cuda.so"; do
  [ -f "$p" ] || { echo "gpu-prepare: $p is missing; build with OSSDESK_CUDA=AUTO and nvcc present first" >&2; exit 1; }
done

rm -rf .devlibs && mkdir -p .devlibs/bin .devlibs/lib /tmp/gpu-prepare-libs
rm -f /tmp/gpu-prepare-libs/*
for p in "${programs[@]}"; do strip -o ".devlibs/bin/$(basename "$p")" "$p"; done
strip -o .devlibs/lib/libossdesk_cuda.so "$BUILD/lib/libossdesk_cuda.so"

# The libraries to bring: what ldd resolves, less what every Linux with an
# NVIDIA driver has (C/C++ runtimes), the drivers themselves, and the Vulkan
# loader (from .gl/).
ldd "${programs[@]}" .devlibs/lib/libossdesk_cuda.so 2>/dev/null | awk '/=> \// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|ld-linux-x86-64|libvulkan|libcuda|libnvidia[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" /tmp/gpu-prepare-libs/; done
tar cJf .devlibs/libs.tar.xz -C /tmp/gpu-prepare-libs .

du -sh .gl .devlibs
echo "libraries: $(ls /tmp/gpu-prepare-libs | tr '\n' ' ')"
