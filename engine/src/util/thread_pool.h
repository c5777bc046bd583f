// A fixed set of worker threads for data-parallel loops (the CPU backend's matmuls).
//
// parallel_for splits [0, n) into contiguous chunks, one per thread, and returns
// when all are done; the calling thread takes a chunk too. Not re-entrant: the
// CPU backend calls it from one thread at a time.
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
#include <functional>
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
  // fn(begin, end) for chunks of [0, n); chunks are multiples of `grain` (except the last).
  void parallel_for(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t)>& fn);

  // How long a hand-off is watched for before the thread sleeps.
  static constexpr std::chrono::microseconds kSpin{200};

 private:
  void worker_loop(unsigned index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards the sleeps, so a wake-up cannot fall between a check and a wait
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // The job: written by the caller before it publishes a new generation,
  // read by the workers after they see it.
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0;
  std::size_t job_chunk_ = 0;
  std::atomic<unsigned> generation_{0};
  std::atomic<unsigned> pending_{0};  // workers still on the current job
  std::atomic<bool> stopping_{false};
  bool spin_ = true;  // threads <= cores
};

}  // namespace ossdesk
