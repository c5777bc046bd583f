#include "util/thread_pool.h"

#include <algorithm>

#include "util/cpu_budget.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ossdesk {

namespace {

// A polite busy-wait step: tells the core this is a spin loop (frees the
// sibling hyper-thread, saves power).
inline void spin_pause() {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() or kSpin has passed; whether done() became true. After
// the first tenth it also yields the core, so a thread the machine has no
// free core for can still run.
template <typename Done>
bool spin_until(bool spin, Done done) {
  if (!spin) return done();
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      spin_pause();
    }
    const auto spun = std::chrono::steady_clock::now() - start;
    if (spun >= ThreadPool::kSpin) return done();
    if (spun >= ThreadPool::kSpin / 10) std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  const CpuBudget budget = cpu_budget();
  if (threads == 0) threads = budget.cores;
  // With more threads than the CPUs this process may use, a spinning thread
  // takes the CPU that the one it waits for needs: 4 threads on 2 cores spent
  // 1.5 times as long a call spinning as sleeping.
  spin_ = threads <= budget.logical;
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(unsigned index) {
  unsigned seen = 0;
  for (;;) {
    const auto published = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(spin_, published)) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, published);
    }
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    const std::size_t begin = std::min(job_n_, index * job_chunk_);
    const std::size_t end = std::min(job_n_, begin + job_chunk_);
    if (begin < end) (*job_)(begin, end);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // The caller may be asleep on done_cv_: take the mutex so the wake-up
      // cannot land between its check of pending_ and its wait.
      { std::lock_guard<std::mutex> lock(mutex_); }
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(std::size_t n, std::size_t grain,
                              const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(1, grain);
  const std::size_t threads = size();
  const std::size_t units = (n + grain - 1) / grain;
  if (threads == 1 || units == 1) {
    fn(0, n);
    return;
  }
  const std::size_t chunk = ((units + threads - 1) / threads) * grain;
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  pending_.store(static_cast<unsigned>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();  // no system call when every worker is still spinning
  fn(0, std::min(n, chunk));
  const auto finished = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(spin_, finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, finished);
  }
  job_ = nullptr;
}

}  // namespace ossdesk
