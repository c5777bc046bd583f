// A fixed set of worker threads for data-parallel loops (the CPU backend's matmuls).
//
// parallel_for splits [0, n) into one contiguous range per thread, and
// returns when all are done; the calling thread takes a range too. A thread
// works through its range from the front, a few grains at a time, and one
// that runs out takes the back half of the fullest range left: so a thread
// that runs slower does less of the work rather than holding every call up
// (an E-core of a hybrid CPU next to P-cores, a worker that woke late). With
// fixed ranges each call waited for the slowest thread. (A thread that the
// OS preempts mid-range still holds the call up for the step it has taken.) The owner's own steps stay contiguous, so a weight matrix
// is still streamed front to back (small pieces handed out from one shared
// counter instead made decode 2-4% slower on a 2-core VM: each piece starts
// a new stream).
// Which thread runs which rows changes nothing in the result: the callers'
// pieces are independent. Not re-entrant: the CPU backend calls it from one
// thread at a time.
//
// Hand-offs spin before they sleep. A decode step calls parallel_for some
// four hundred times in a row, a few hundred microseconds each; waking a
// sleeping thread through the kernel costs tens of microseconds (about 45 per
// call measured on a 2-core VM, a tenth of a token). So a worker that finishes
// a chunk watches for the next job for a short while (kSpin) before it blocks,
// and the caller watches for the workers' last chunk the same way. Between
// turns, or when the backend is idle, the threads sleep as before. A pool
// with more threads than the logical CPUs this process may use never spins.
//
// By default it has one thread per physical core the process may use
// (util/cpu_budget.h says why not one per logical CPU).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ossdesk {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads = 0);  // 0: cpu_budget().cores
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // fn(begin, end) for pieces of [0, n); pieces are multiples of `grain` (except the last).
  void parallel_for(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t)>& fn);

  // How long a hand-off is watched for before the thread sleeps.
  static constexpr std::chrono::microseconds kSpin{200};
  // A thread takes its own range in this many steps: the finer, the less a
  // slow thread has taken that others cannot have.
  static constexpr std::uint32_t kStepsPerRange = 8;

 private:
  // One thread's unclaimed grains [front, back) of the current call, packed
  // into one word (front low, back high) so that a claim is one
  // compare-exchange. Every claim's new value follows from the old one alone,
  // so a value seen again (ABA) is still the state it describes.
  struct alignas(64) Range {
    std::atomic<std::uint64_t> bounds{0};
  };

  void worker_loop(unsigned index);
  void run_ranges(unsigned self);
  bool take_front(unsigned self, std::uint32_t* begin, std::uint32_t* end);
  bool steal_into(unsigned self);

  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards the sleeps, so a wake-up cannot fall between a check and a wait
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // The job: written by the caller before it publishes a new generation,
  // read by the workers after they see it.
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0;
  std::size_t job_grain_ = 1;
  std::uint32_t job_step_ = 1;  // grains a thread takes from its own range at a time
  std::unique_ptr<Range[]> ranges_;  // [size()], the caller's first
  std::atomic<unsigned> generation_{0};
  std::atomic<unsigned> pending_{0};  // workers still on the current job
  std::atomic<bool> stopping_{false};
  bool spin_ = true;  // threads <= cores
};

}  // namespace ossdesk
