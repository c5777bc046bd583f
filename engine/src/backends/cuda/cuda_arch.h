// Which NVIDIA GPUs this build's CUDA kernels run on, decided from the
// device's compute capability alone, so listing devices never creates a CUDA
// context. Without this a GTX 1080 or an RTX 2080 (compute 6.1, 7.5) was
// listed as a CUDA device, `auto` chose it and loading failed at the first
// kernel ("no kernel image is available"), instead of running on Vulkan.
//
// `archs` is CMake's CUDA_ARCHITECTURES for the kernels, joined by commas
// ("80,86,89,90,120"). Each entry is built as machine code ("-real"), as PTX
// ("-virtual"), or as both (no suffix). Machine code for X.Y runs on X.Z with
// Z >= Y; PTX for X.Y is compiled by the driver for any X.Y or newer.
// Plain C++ (no CUDA headers): the engine's tests check the rule directly.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace ossdesk::cuda {

struct KernelArch {
  int major = 0, minor = 0;
  bool machine_code = false;  // SASS for exactly this major version
  bool ptx = false;           // compiled by the driver for this version and newer
};

// The next entry of `archs` from `pos` (advanced past it); false at the end
// or on an entry that is not "<digits>[-real|-virtual]".
inline bool next_kernel_arch(std::string_view archs, std::size_t& pos, KernelArch* out) {
  while (pos < archs.size() && archs[pos] == ',') ++pos;
  if (pos >= archs.size()) return false;
  const std::size_t end = std::min(archs.find(',', pos), archs.size());
  std::string_view entry = archs.substr(pos, end - pos);
  pos = end;
  KernelArch a;
  a.machine_code = a.ptx = true;
  const std::size_t dash = entry.find('-');
  if (dash != std::string_view::npos) {
    const std::string_view kind = entry.substr(dash + 1);
    if (kind == "real") a.ptx = false;
    else if (kind == "virtual") a.machine_code = false;
    else return false;
    entry = entry.substr(0, dash);
  }
  if (entry.size() < 2) return false;
  int number = 0;
  for (const char c : entry) {
    if (c < '0' || c > '9') return false;
    number = number * 10 + (c - '0');
  }
  a.major = number / 10;
  a.minor = number % 10;
  *out = a;
  return true;
}

// True when some kernel image of `archs` runs on a GPU of compute major.minor.
inline bool kernels_run_on(std::string_view archs, int major, int minor) {
  std::size_t pos = 0;
  KernelArch a;
  while (next_kernel_arch(archs, pos, &a)) {
    if (a.machine_code && a.major == major && a.minor <= minor) return true;
    if (a.ptx && (a.major < major || (a.major == major && a.minor <= minor))) return true;
  }
  return false;
}

// Why a GPU of compute major.minor cannot run them, for `info` and the app:
// "compute 7.5; this build's CUDA kernels run on compute 8.0 and newer".
inline std::string kernels_do_not_run_because(std::string_view archs, int major, int minor) {
  std::string built;
  int lowest_ptx = -1;
  std::size_t pos = 0;
  KernelArch a;
  while (next_kernel_arch(archs, pos, &a)) {
    const int version = a.major * 10 + a.minor;
    if (a.ptx && (lowest_ptx < 0 || version < lowest_ptx)) lowest_ptx = version;
    if (a.machine_code) built += (built.empty() ? "" : ", ") + std::to_string(a.major) + "." + std::to_string(a.minor);
  }
  std::string text = "compute " + std::to_string(major) + "." + std::to_string(minor) + "; this build's CUDA kernels run on ";
  if (lowest_ptx >= 0) {
    text += "compute " + std::to_string(lowest_ptx / 10) + "." + std::to_string(lowest_ptx % 10) + " and newer";
  } else {
    text += built.empty() ? "no GPU (no architectures were built)" : "compute " + built;
  }
  return text;
}

}  // namespace ossdesk::cuda
