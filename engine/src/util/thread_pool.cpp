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

std::uint64_t pack(std::uint32_t front, std::uint32_t back) { return static_cast<std::uint64_t>(back) << 32 | front; }
std::uint32_t front_of(std::uint64_t bounds) { return static_cast<std::uint32_t>(bounds); }
std::uint32_t back_of(std::uint64_t bounds) { return static_cast<std::uint32_t>(bounds >> 32); }
std::uint32_t left_in(std::uint64_t bounds) { return back_of(bounds) > front_of(bounds) ? back_of(bounds) - front_of(bounds) : 0; }

}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  const CpuBudget budget = cpu_budget();
  if (threads == 0) threads = budget.cores;
  // With more threads than the CPUs this process may use, a spinning thread
  // takes the CPU that the one it waits for needs: 4 threads on 2 cores spent
  // 1.5 times as long a call spinning as sleeping.
  spin_ = threads <= budget.logical;
  ranges_ = std::make_unique<Range[]>(threads);
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
    run_ranges(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // The caller may be asleep on done_cv_: take the mutex so the wake-up
      // cannot land between its check of pending_ and its wait.
      { std::lock_guard<std::mutex> lock(mutex_); }
      done_cv_.notify_one();
    }
  }
}

// The claims are relaxed: the job itself was published by generation_, and
// the caller learns that its pieces are done through pending_.
bool ThreadPool::take_front(unsigned self, std::uint32_t* begin, std::uint32_t* end) {
  std::atomic<std::uint64_t>& own = ranges_[self].bounds;
  std::uint64_t bounds = own.load(std::memory_order_relaxed);
  for (;;) {
    if (left_in(bounds) == 0) return false;
    const std::uint32_t front = front_of(bounds), back = back_of(bounds);
    const std::uint32_t taken_to = back - front > job_step_ ? front + job_step_ : back;
    if (own.compare_exchange_weak(bounds, pack(taken_to, back), std::memory_order_relaxed)) {
      *begin = front;
      *end = taken_to;
      return true;
    }
  }
}

// Moves the back half of the fullest other range into this thread's own
// (empty) one; false when every range is empty. The moved grains are this
// thread's alone between the two steps: nobody takes from an empty range.
bool ThreadPool::steal_into(unsigned self) {
  for (;;) {
    unsigned victim = self;
    std::uint32_t most = 0;
    for (unsigned i = 0; i < size(); ++i) {
      const std::uint32_t left = left_in(ranges_[i].bounds.load(std::memory_order_relaxed));
      if (i != self && left > most) victim = i, most = left;
    }
    if (most == 0) return false;
    std::uint64_t bounds = ranges_[victim].bounds.load(std::memory_order_relaxed);
    if (left_in(bounds) == 0) continue;
    const std::uint32_t back = back_of(bounds), cut = back - (left_in(bounds) + 1) / 2;
    if (ranges_[victim].bounds.compare_exchange_strong(bounds, pack(front_of(bounds), cut), std::memory_order_relaxed)) {
      ranges_[self].bounds.store(pack(cut, back), std::memory_order_relaxed);
      return true;
    }
  }
}

void ThreadPool::run_ranges(unsigned self) {
  do {
    for (std::uint32_t begin = 0, end = 0; take_front(self, &begin, &end);)
      (*job_)(begin * job_grain_, std::min(job_n_, end * job_grain_));
  } while (steal_into(self));
}

void ThreadPool::parallel_for(std::size_t n, std::size_t grain,
                              const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(1, grain);
  const std::size_t threads = size();
  std::size_t units = (n + grain - 1) / grain;
  if (threads == 1 || units == 1) {
    fn(0, n);
    return;
  }
  if (units > UINT32_MAX) {  // the ranges count grains in 32 bits: take several grains as one
    grain *= (units + UINT32_MAX - 1) / UINT32_MAX;
    units = (n + grain - 1) / grain;
  }
  job_ = &fn;
  job_n_ = n;
  job_grain_ = grain;
  job_step_ = static_cast<std::uint32_t>(std::max<std::size_t>(1, units / (threads * kStepsPerRange)));
  for (std::size_t i = 0; i < threads; ++i)
    ranges_[i].bounds.store(pack(static_cast<std::uint32_t>(i * units / threads), static_cast<std::uint32_t>((i + 1) * units / threads)),
                            std::memory_order_relaxed);
  pending_.store(static_cast<unsigned>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();  // no system call when every worker is still spinning
  run_ranges(0);
  const auto finished = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(spin_, finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, finished);
  }
  job_ = nullptr;
}

}  // namespace ossdesk
