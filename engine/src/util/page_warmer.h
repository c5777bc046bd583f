// Reads memory-mapped file ranges into RAM on a background thread.
//
// The CPU backend computes straight from the mapped model file. Right after a
// load nothing of it is in the page cache, and the first forward pass faults
// its way through some 12 GB page by page: a 16-token prompt to the 20b model
// took 9.4 s cold against 1.2 s warm. Reading the ranges in big sequential
// requests while the user is still typing moves most of that wait off the
// first answer. Whether to warm at all (the model must fit in free memory) is
// the caller's rule; this class only reads, in the order given, and stops
// between chunks when asked or destroyed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace ossdesk {

class PageWarmer {
 public:
  using Range = std::span<const std::uint8_t>;
  // Called on the warming thread after each chunk with the bytes done so far.
  using ChunkHook = std::function<void(std::uint64_t bytes_done)>;

  // A stop (an unload, a quit: on the UI thread) waits for at most this much
  // I/O; 4 and 16 MiB read as fast (1.9 GB/s here).
  static constexpr std::size_t kDefaultChunk = 4u << 20;

  // Starts reading `ranges` (in this order) on a thread of its own.
  explicit PageWarmer(std::vector<Range> ranges, std::size_t chunk_bytes = kDefaultChunk, ChunkHook on_chunk = {});
  ~PageWarmer();  // request_stop() and join
  PageWarmer(const PageWarmer&) = delete;
  PageWarmer& operator=(const PageWarmer&) = delete;

  std::uint64_t total_bytes() const { return total_; }
  std::uint64_t bytes_done() const { return done_.load(std::memory_order_relaxed); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }  // read everything or stopped
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  void wait();  // until finished()

 private:
  void run(std::vector<Range> ranges, std::size_t chunk_bytes, ChunkHook on_chunk);

  std::uint64_t total_ = 0;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  std::thread thread_;
};

// Brings [data, data + size) into memory: one madvise(MADV_POPULATE_READ) on
// Linux 5.14 and later, else a read of one byte per page.
void populate_pages(const std::uint8_t* data, std::size_t size);

}  // namespace ossdesk
