// Runs a kernel's blocks one after another, each block's threads as fibers on
// the calling OS thread. A fiber runs until it reaches a synchronisation point
// (__syncthreads, or a warp exchange behind the shuffles and ballots) or ends;
// the scheduler then releases a warp whose lanes have all reached the same
// exchange, or the block once every live thread waits at its barrier. What a
// GPU would leave undefined or hang on is reported as an error instead: a warp
// whose lanes wait at different kinds of point, a shuffle naming a lane that
// has exited, lanes that disagree on the mask.
//
// Within a pass the threads run in a shuffled order, a different one per block
// (deterministic: seeded by the block's index), and a warp whose last lane
// reaches an exchange goes on at once, ahead of threads that have not run
// yet. So a missing __syncthreads between one thread's write to shared memory
// and another's read shows up as a wrong result, whichever of the two has the
// lower index, as on a GPU, which promises no order either.
// OSSDESK_CUDA_EMULATOR_ORDER=forward runs the threads in index order.
//
// The context switch is a few lines of x86-64 assembly (callee-saved
// registers, the stack pointer and the floating-point control words), which
// costs nanoseconds where swapcontext makes a system call. Under
// AddressSanitizer every switch tells it which stack runs next, so a kernel's
// out-of-bounds access is reported at its line, and a stack left by an error
// is unpoisoned before it is used again.
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "emulator_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define OSSDESK_EMU_ASAN 1
#else
#define OSSDESK_EMU_ASAN 0
#endif

extern "C" void ossdesk_emu_switch(void** save_sp, void* load_sp);

asm(R"(
  .text
  .globl ossdesk_emu_switch
  .hidden ossdesk_emu_switch
  .type ossdesk_emu_switch, @function
ossdesk_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size ossdesk_emu_switch, .-ossdesk_emu_switch
)");

namespace ossdesk_emu {

uint3 current_thread;
uint3 current_block;
dim3 current_block_dim;
dim3 current_grid_dim;

namespace {

constexpr std::size_t kStackBytes = 256 * 1024;
constexpr std::size_t kGuardBytes = 4096;  // below each stack: an overflow faults instead of corrupting
constexpr unsigned kMaxThreadsPerBlock = 1024;

enum class Wait { Runnable, Barrier, Warp, Done };

struct Fiber {
  void* sp = nullptr;     // null until prepared
  char* stack = nullptr;  // lowest usable address
  Wait wait = Wait::Done;
  unsigned mask = 0;   // of the exchange it waits at
  unsigned round = 0;  // warp exchanges passed in this block: picks the buffer
  uint3 index{};
  unsigned linear = 0;
  unsigned turn = 0;  // its place in the block's running order
  bool awaited = false;  // passed await_previous_kernel()
};

struct BlockRun {
  std::vector<Fiber> fibers;  // the pool; a block uses the first `threads` of them
  std::vector<unsigned> order;  // the block's running order: fiber indices
  unsigned threads = 0;
  void* scheduler_sp = nullptr;
  const void* scheduler_stack = nullptr;  // the calling OS thread's stack: lowest address and size
  std::size_t scheduler_stack_bytes = 0;
  Fiber* current = nullptr;
  const std::function<void()>* body = nullptr;
  std::vector<std::array<std::array<std::uint64_t, 32>, 2>> warp_slots;  // double-buffered per warp
  bool missing_await_reported = false;  // once per launch
};

BlockRun run;
std::mutex one_kernel_at_a_time;

// Saves the running context in *save and resumes the one saved at load_sp,
// whose stack spans [bottom, bottom + bytes).
void switch_to(void** save, void* load_sp, const void* bottom, std::size_t bytes) {
#if OSSDESK_EMU_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, bytes);
  ossdesk_emu_switch(save, load_sp);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  (void)bottom, (void)bytes;
  ossdesk_emu_switch(save, load_sp);
#endif
}

// Saves the running context in *save and resumes the first runnable fiber
// from turn `from` on (when that is the running fiber, it simply goes on);
// false when there is none.
bool resume_from(unsigned from, void** save) {
  for (unsigned j = from; j < run.threads; ++j) {
    Fiber& next = run.fibers[run.order[j]];
    if (next.wait != Wait::Runnable) continue;
    if (&next == run.current) return true;
    run.current = &next;
    current_thread = next.index;
    switch_to(save, next.sp, next.stack, kStackBytes);
    return true;
  }
  return false;
}

// Leaves fiber f (blocked or done) for the next runnable fiber of this pass,
// directly, or for the scheduler when the pass is over: one switch per stop.
void leave(Fiber& f) {
  if (!resume_from(f.turn + 1, &f.sp)) switch_to(&f.sp, run.scheduler_sp, run.scheduler_stack, run.scheduler_stack_bytes);
}

std::string where(const Fiber& f);

[[noreturn]] void fiber_main() {
#if OSSDESK_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);  // entered by a switch, not a call
#endif
  for (;;) {
    Fiber& f = *run.current;
    try {
      (*run.body)();
      if (!f.awaited && !run.missing_await_reported) {
        run.missing_await_reported = true;
        record_error(cudaErrorLaunchFailure,
                     where(f) + ": the kernel never called await_previous_kernel(), which every kernel calls first");
      }
    } catch (const std::exception& e) {
      record_error(cudaErrorLaunchFailure, std::string("a kernel thread threw: ") + e.what());
    }
    f.wait = Wait::Done;
    leave(f);
  }
}

// A fresh stack whose first switch "returns" into fiber_main, aligned as if called.
void prepare(Fiber& f) {
  if (!f.stack) {
    void* p = mmap(nullptr, kStackBytes + kGuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("cuda emulator: no memory for a fiber stack");
    mprotect(p, kGuardBytes, PROT_NONE);
    f.stack = static_cast<char*>(p) + kGuardBytes;
  }
#if OSSDESK_EMU_ASAN
  __asan_unpoison_memory_region(f.stack, kStackBytes);  // frames a failed kernel left behind
#endif
  auto top = reinterpret_cast<std::uintptr_t>(f.stack + kStackBytes) & ~static_cast<std::uintptr_t>(15);
  auto* slots = reinterpret_cast<std::uint64_t*>(top - 16);  // [0] return address, [1] a fake caller
  slots[0] = reinterpret_cast<std::uint64_t>(&fiber_main);
  slots[1] = 0;
  std::uint64_t* frame = slots - 7;  // control words, r15, r14, r13, r12, rbx, rbp
  std::uint32_t mxcsr = 0;
  std::uint16_t fpu = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpu));
  frame[0] = static_cast<std::uint64_t>(mxcsr) | static_cast<std::uint64_t>(fpu) << 32;
  for (int i = 1; i < 7; ++i) frame[i] = 0;
  f.sp = frame;
}

const char* wait_name(Wait w) {
  switch (w) {
    case Wait::Barrier: return "__syncthreads";
    case Wait::Warp: return "a warp exchange";
    case Wait::Runnable: return "running";
    default: return "exited";
  }
}

std::string where(const Fiber& f) {
  char text[96];
  std::snprintf(text, sizeof text, "block (%u,%u,%u) thread (%u,%u,%u)", current_block.x, current_block.y, current_block.z,
                f.index.x, f.index.y, f.index.z);
  return text;
}

// Releases the warps whose live lanes all wait at one exchange. Throws on a
// warp that can never be released.
bool release_warps(unsigned n) {
  bool released = false;
  for (unsigned first = 0; first < n; first += 32) {
    const unsigned last = std::min(n, first + 32);
    unsigned at_warp = 0, at_barrier = 0, mask = 0, waiting = 0, exited = 0;
    for (unsigned i = first; i < last; ++i) {
      const Fiber& f = run.fibers[i];
      if (f.wait == Wait::Warp) ++at_warp, mask = f.mask, waiting |= 1u << (i - first);
      if (f.wait == Wait::Barrier) ++at_barrier;
      if (f.wait == Wait::Done) exited |= 1u << (i - first);
    }
    if (at_warp == 0) continue;
    for (unsigned i = first; i < last; ++i) {
      const Fiber& f = run.fibers[i];
      if (f.wait == Wait::Warp && f.mask != mask)
        throw std::runtime_error(where(f) + ": lanes of one warp wait at exchanges with different masks");
    }
    const unsigned lanes_present = last - first == 32 ? 0xffffffffu : (1u << (last - first)) - 1;
    if (mask & exited & lanes_present)
      throw std::runtime_error(where(run.fibers[first]) + ": a warp exchange names a lane that has exited");
    if ((mask & lanes_present) != waiting) {
      if (at_barrier) continue;  // other lanes may still come; decided when nothing can run
      throw std::runtime_error(where(run.fibers[first]) + ": a warp exchange waits for lanes that never reach it");
    }
    for (unsigned i = first; i < last; ++i)
      if (run.fibers[i].wait == Wait::Warp) run.fibers[i].wait = Wait::Runnable;
    released = true;
  }
  return released;
}

bool shuffled_order() {
  static const bool shuffled = [] {
    const char* order = std::getenv("OSSDESK_CUDA_EMULATOR_ORDER");
    return !(order && std::string(order) == "forward");
  }();
  return shuffled;
}

void run_block(unsigned n) {
  if (run.fibers.size() < n) run.fibers.resize(n);
  run.warp_slots.resize((n + 31) / 32);
  run.order.resize(n);
  std::iota(run.order.begin(), run.order.end(), 0u);
  if (shuffled_order()) {
    std::mt19937 rng(current_block.x * 73856093u ^ current_block.y * 19349663u ^ current_block.z * 83492791u ^ n);
    std::shuffle(run.order.begin(), run.order.end(), rng);
  }
  for (unsigned t = 0; t < n; ++t) run.fibers[run.order[t]].turn = t;
  const dim3 d = current_block_dim;
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = run.fibers[i];
    // A fiber left mid-kernel by an earlier error starts over on a fresh frame.
    if (!f.sp || f.wait != Wait::Done) prepare(f);
    f.wait = Wait::Runnable;
    f.round = 0;
    f.awaited = false;
    f.linear = i;
    f.index = uint3{i % d.x, i / d.x % d.y, i / (d.x * d.y)};
  }
  run.threads = n;
  for (;;) {
    run.current = nullptr;  // the scheduler runs now, no fiber
    resume_from(0, &run.scheduler_sp);  // a pass: the runnable fibers in order, each handing over to the next
    unsigned live = 0, runnable = 0;
    for (unsigned i = 0; i < n; ++i) {
      live += run.fibers[i].wait != Wait::Done;
      runnable += run.fibers[i].wait == Wait::Runnable;  // a warp released behind the pass's turn
    }
    if (live == 0) break;
    if (runnable || release_warps(n)) continue;
    unsigned at_barrier = 0;
    const Fiber* other = nullptr;
    for (unsigned i = 0; i < n; ++i) {
      if (run.fibers[i].wait == Wait::Barrier) ++at_barrier;
      else if (run.fibers[i].wait != Wait::Done && !other) other = &run.fibers[i];
    }
    if (at_barrier != live)
      throw std::runtime_error(where(*other) + " waits at " + wait_name(other->wait) +
                               " while other threads of its block wait at __syncthreads");
    for (unsigned i = 0; i < n; ++i)
      if (run.fibers[i].wait == Wait::Barrier) run.fibers[i].wait = Wait::Runnable;
  }
}

}  // namespace

unsigned lane_id() { return run.current->linear & 31u; }

void awaited_previous_kernel() { run.current->awaited = true; }

void sync_block() {
  Fiber& f = *run.current;
  f.wait = Wait::Barrier;
  leave(f);
}

// Whether every lane that f's mask names waits at an exchange with that mask.
bool warp_complete(const Fiber& f) {
  const unsigned first = f.linear & ~31u, present = std::min(run.threads - first, 32u);
  if (present < 32 && f.mask >> present) return false;  // names lanes past the block: release_warps reports it
  for (unsigned i = 0; i < present; ++i) {
    const Fiber& lane = run.fibers[first + i];
    if ((f.mask >> i & 1u) && (lane.wait != Wait::Warp || lane.mask != f.mask)) return false;
  }
  return true;
}

const std::uint64_t* warp_exchange(unsigned mask, std::uint64_t value) {
  Fiber& f = *run.current;
  auto& rounds = run.warp_slots[f.linear / 32];
  rounds[f.round & 1u][f.linear & 31u] = value;
  f.mask = mask;
  f.wait = Wait::Warp;
  if (!warp_complete(f)) {
    leave(f);
  } else {
    // The last lane arrived: the warp goes on at once, ahead of the threads
    // that have not run yet in this pass, as a GPU may run one warp ahead of
    // the others (a missing __syncthreads before a warp's reads shows).
    const unsigned first = f.linear & ~31u;
    for (unsigned i = 0; i < 32 && first + i < run.threads; ++i)
      if (mask >> i & 1u) run.fibers[first + i].wait = Wait::Runnable;
    resume_from(0, &f.sp);
  }
  return rounds[f.round++ & 1u].data();
}

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  const unsigned n = block.x * block.y * block.z;
  if (n == 0 || n > kMaxThreadsPerBlock || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
    char text[128];
    std::snprintf(text, sizeof text, "invalid launch: grid (%u,%u,%u), block (%u,%u,%u)", grid.x, grid.y, grid.z, block.x,
                  block.y, block.z);
    record_error(cudaErrorInvalidConfiguration, text);
    return;
  }
  thread_local bool inside_kernel = false;  // on this OS thread
  if (inside_kernel) throw std::logic_error("cuda emulator: a kernel launched from inside a kernel");
  const std::lock_guard lock(one_kernel_at_a_time);
  inside_kernel = true;
  current_grid_dim = grid;
  current_block_dim = block;
  run.body = &body;
  run.missing_await_reported = false;
#if OSSDESK_EMU_ASAN
  // The fibers switch back to this OS thread's stack; ASan is told its bounds.
  thread_local const std::pair<const void*, std::size_t> os_stack = [] {
    pthread_attr_t attr;
    void* bottom = nullptr;
    std::size_t bytes = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &bottom, &bytes);
      pthread_attr_destroy(&attr);
    }
    return std::pair<const void*, std::size_t>{bottom, bytes};
  }();
  run.scheduler_stack = os_stack.first;
  run.scheduler_stack_bytes = os_stack.second;
#endif
  try {
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
          current_block = uint3{x, y, z};
          run_block(n);
        }
  } catch (const std::runtime_error& e) {
    record_error(cudaErrorLaunchFailure, e.what());
  }
  run.current = nullptr;
  run.body = nullptr;
  inside_kernel = false;
}

}  // namespace ossdesk_emu
