// The CUDA runtime API calls the CUDA backend makes, over host memory: one
// device ("ossdesk CUDA emulator"), allocations from the heap with a budget so
// out-of-memory paths can be reached, streams that run work at once (or record
// it while capturing a graph, to replay on cudaGraphLaunch), events stamped
// with the host clock so profiles have times.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cuda_emu.h"
#include "emulator_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

struct CUstream_st {
  std::vector<std::function<void()>>* capture = nullptr;  // set between Begin/EndCapture
};
struct CUevent_st {
  std::chrono::steady_clock::time_point at{};
  bool recorded = false;
};
struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

namespace ossdesk_emu {
namespace {

std::mutex mutex;
cudaError_t sticky = cudaSuccess;
std::string sticky_message;  // the message of the failure that stuck
std::map<void*, std::size_t> allocations;
std::size_t allocated = 0;

// The emulated device's memory: OSSDESK_CUDA_EMULATOR_MEMORY_MIB, default 4 GiB.
std::size_t memory_budget() {
  static const std::size_t bytes = [] {
    const char* v = std::getenv("OSSDESK_CUDA_EMULATOR_MEMORY_MIB");
    const long mib = v ? std::strtol(v, nullptr, 10) : 4096;
    return static_cast<std::size_t>(mib > 0 ? mib : 4096) << 20;
  }();
  return bytes;
}

cudaError_t status() {
  std::lock_guard lock(mutex);
  return sticky;
}

}  // namespace

void record_error(cudaError_t error, const std::string& message) {
  std::fprintf(stderr, "cuda emulator: %s\n", message.c_str());
  std::lock_guard lock(mutex);
  if (sticky == cudaSuccess) sticky = error, sticky_message = message;
}

std::string clear_failure() {
  std::lock_guard lock(mutex);
  sticky = cudaSuccess;
  return std::exchange(sticky_message, std::string());
}

void enqueue(cudaStream_t stream, std::function<void()> work) {
  if (stream && stream->capture) {
    stream->capture->push_back(std::move(work));
    return;
  }
  if (status() != cudaSuccess) return;  // a faulted context runs nothing more
  work();
}

}  // namespace ossdesk_emu

using ossdesk_emu::enqueue;

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "ossdesk CUDA emulator (CPU)");
  p->totalGlobalMem = ossdesk_emu::memory_budget();
  // OSSDESK_CUDA_EMULATOR_COMPUTE="7.5" pretends to be an older GPU (the
  // tests of devices this build's kernels cannot run on); an H100 otherwise.
  p->major = 9;
  p->minor = 0;
  if (const char* v = std::getenv("OSSDESK_CUDA_EMULATOR_COMPUTE"); v && std::sscanf(v, "%d.%d", &p->major, &p->minor) != 2)
    p->major = 9, p->minor = 0;
  p->multiProcessorCount = 1;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->sharedMemPerBlock = 48 * 1024;
  return cudaSuccess;
}

// The memory the emulator pretends to have: 1 GHz, 64 bits wide, double data
// rate, so 16 GB/s (what one channel of a desktop's DDR4 gives).
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  switch (attribute) {
    case cudaDevAttrMemoryClockRate: *value = 1000 * 1000; return cudaSuccess;  // kHz
    case cudaDevAttrGlobalMemoryBusWidth: *value = 64; return cudaSuccess;
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  std::lock_guard lock(ossdesk_emu::mutex);
  *total = ossdesk_emu::memory_budget();
  *free = *total - ossdesk_emu::allocated;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t size) {
  std::lock_guard lock(ossdesk_emu::mutex);
  const std::size_t rounded = (std::max<std::size_t>(size, 1) + 255) & ~static_cast<std::size_t>(255);
  if (ossdesk_emu::allocated + rounded > ossdesk_emu::memory_budget()) return cudaErrorMemoryAllocation;
  *p = std::aligned_alloc(256, rounded);
  if (!*p) return cudaErrorMemoryAllocation;
  // A GPU hands out memory holding whatever was there before; all-ones bytes
  // (NaN floats, -1 integers) make a kernel that reads before writing fail.
  std::memset(*p, 0xff, rounded);
#if defined(__SANITIZE_ADDRESS__)
  // The bytes past the size asked for are the rounding's: under
  // AddressSanitizer a kernel that touches them is reported, however small
  // the overrun.
  __asan_poison_memory_region(static_cast<char*>(*p) + size, rounded - size);
#endif
  ossdesk_emu::allocations[*p] = rounded;
  ossdesk_emu::allocated += rounded;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard lock(ossdesk_emu::mutex);
  const auto it = ossdesk_emu::allocations.find(p);
  if (it == ossdesk_emu::allocations.end()) return cudaErrorInvalidValue;
  ossdesk_emu::allocated -= it->second;
#if defined(__SANITIZE_ADDRESS__)
  __asan_unpoison_memory_region(p, it->second);
#endif
  ossdesk_emu::allocations.erase(it);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t size) {
  *p = std::malloc(std::max<std::size_t>(size, 1));
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  if (const cudaError_t e = ossdesk_emu::status()) return e;
  std::memcpy(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind, cudaStream_t stream) {
  enqueue(stream, [=] { std::memcpy(dst, src, count); });
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t count, cudaStream_t stream) {
  enqueue(stream, [=] { std::memset(p, value, count); });
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) { return cudaStreamCreate(stream); }
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream && stream->capture) return cudaErrorStreamCaptureUnsupported;
  return ossdesk_emu::status();
}
cudaError_t cudaDeviceSynchronize() { return ossdesk_emu::status(); }

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) { return cudaEventCreate(event); }
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  enqueue(stream, [event] {
    event->at = std::chrono::steady_clock::now();
    event->recorded = true;
  });
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return ossdesk_emu::status(); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start->recorded || !end->recorded) return cudaErrorInvalidResourceHandle;
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return ossdesk_emu::status(); }
cudaError_t cudaPeekAtLastError() { return ossdesk_emu::status(); }

namespace ossdesk_emu {
namespace {

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* description;
};
constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure (the emulator printed why)"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
};
constexpr ErrorText kUnknownError{cudaErrorUnknown, "cudaErrorUnknown", "unknown error"};

const ErrorText& text_of(cudaError_t error) {
  for (const ErrorText& e : kErrors)
    if (e.error == error) return e;
  return kUnknownError;
}

}  // namespace
}  // namespace ossdesk_emu

const char* cudaGetErrorName(cudaError_t error) { return ossdesk_emu::text_of(error).name; }
const char* cudaGetErrorString(cudaError_t error) { return ossdesk_emu::text_of(error).description; }

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (!stream || stream->capture) return cudaErrorInvalidValue;
  stream->capture = new std::vector<std::function<void()>>;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!stream || !stream->capture) return cudaErrorInvalidValue;
  *graph = new CUgraph_st{std::move(*stream->capture)};
  delete stream->capture;
  stream->capture = nullptr;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  *status = stream && stream->capture ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusNone;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = new CUgraphExec_st{graph->work};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  for (const auto& work : exec->work) enqueue(stream, work);
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
