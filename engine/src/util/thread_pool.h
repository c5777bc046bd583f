// A fixed set of worker threads for data-parallel loops (the CPU backend's matmuls).
//
// parallel_for splits [0, n) into contiguous chunks, one per thread, and returns
// when all are done; the calling thread takes a chunk too. Not re-entrant: the
// CPU backend calls it from one thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ossdesk {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads = 0);  // 0: std::thread::hardware_concurrency()
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // fn(begin, end) for chunks of [0, n); chunks are multiples of `grain` (except the last).
  void parallel_for(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t)>& fn);

 private:
  void worker_loop(unsigned index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0;
  std::size_t job_chunk_ = 0;
  unsigned generation_ = 0;
  unsigned pending_ = 0;
  bool stopping_ = false;
};

}  // namespace ossdesk
