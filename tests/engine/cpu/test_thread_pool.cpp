// ThreadPool, the CPU backend's workers: every index runs exactly once, in
// chunks that are multiples of the grain, on the pool's threads; a slow
// thread leaves its share to the others; back-to-back
// calls (the spinning hand-off) and calls after the workers have fallen asleep
// (the blocking one) both complete; the pool stops whether its workers spin or
// sleep.
#include <QtTest>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "util/thread_pool.h"

using namespace ossdesk;

namespace {

// Runs parallel_for(n, grain) and checks what it did; false with a reason.
bool run_and_check(ThreadPool& pool, std::size_t n, std::size_t grain, QString* why) {
  std::vector<std::atomic<int>> hits(n);
  std::mutex chunks_mutex;
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  pool.parallel_for(n, grain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    std::lock_guard<std::mutex> lock(chunks_mutex);
    chunks.emplace_back(begin, end);
  });
  for (std::size_t i = 0; i < n; ++i)
    if (hits[i].load() != 1) {
      *why = QString("n=%1 grain=%2: index %3 ran %4 times").arg(n).arg(grain).arg(i).arg(hits[i].load());
      return false;
    }
  for (auto [begin, end] : chunks)
    if (begin >= end || (end != n && (end - begin) % std::max<std::size_t>(grain, 1) != 0)) {
      *why = QString("n=%1 grain=%2: chunk [%3, %4)").arg(n).arg(grain).arg(begin).arg(end);
      return false;
    }
  return true;
}

}  // namespace

class TestThreadPool : public QObject {
  Q_OBJECT

 private slots:
  // Thousands of calls back to back, as a decode step makes them, over sizes
  // that do and do not divide among the threads.
  void back_to_back_calls_run_every_index_once() {
    for (unsigned threads : {1u, 2u, 3u, 4u}) {
      ThreadPool pool(threads);
      QCOMPARE(pool.size(), threads);
      QString why;
      for (int call = 0; call < 3000; ++call) {
        const std::size_t n = static_cast<std::size_t>(call % 41), grain = static_cast<std::size_t>(1 + call % 5);
        QVERIFY2(run_and_check(pool, n, grain, &why), qPrintable(QString("%1 threads, call %2: %3").arg(threads).arg(call).arg(why)));
      }
    }
  }

  // Calls far enough apart that the workers stop spinning and sleep.
  void calls_after_the_workers_sleep_complete() {
    ThreadPool pool(3);
    QString why;
    for (int call = 0; call < 20; ++call) {
      std::this_thread::sleep_for(ThreadPool::kSpin * 3);
      QVERIFY2(run_and_check(pool, 300, 7, &why), qPrintable(why));
    }
  }

  // The chunks run on as many threads as the pool has, the caller's among them.
  void chunks_run_on_the_pools_threads() {
    ThreadPool pool(3);
    std::mutex m;
    std::set<std::thread::id> ran_on;
    std::atomic<int> arrived{0};
    pool.parallel_for(3, 1, [&](std::size_t, std::size_t) {
      // Each chunk waits for the others, which holds only if they run at once.
      arrived.fetch_add(1);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (arrived.load() < 3 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
      std::lock_guard<std::mutex> lock(m);
      ran_on.insert(std::this_thread::get_id());
    });
    QCOMPARE(arrived.load(), 3);
    QCOMPARE(ran_on.size(), std::size_t{3});
    QVERIFY(ran_on.count(std::this_thread::get_id()) == 1);
  }

  // A thread that runs slow (an E-core, a core shared with the UI) does not
  // hold a call up: the worker's first piece takes 300 ms, and the caller
  // takes all the other pieces meanwhile. With one fixed chunk per thread the
  // worker would have had half the indices.
  void a_slow_thread_leaves_its_share_to_the_others() {
    ThreadPool pool(2);
    const auto caller = std::this_thread::get_id();
    std::atomic<bool> slowed{false};
    std::mutex m;
    std::map<std::thread::id, std::size_t> ran;
    pool.parallel_for(16, 1, [&](std::size_t begin, std::size_t end) {
      if (std::this_thread::get_id() != caller && !slowed.exchange(true))
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      std::lock_guard<std::mutex> lock(m);
      ran[std::this_thread::get_id()] += end - begin;
    });
    std::size_t total = 0;
    for (auto [thread, indices] : ran) total += indices;
    QCOMPARE(total, std::size_t{16});
    QVERIFY2(ran[caller] >= 14, qPrintable(QString("the caller ran %1 of 16 indices").arg(ran[caller])));
  }

  // Destruction right after a call (workers spinning) and after a pause
  // (workers asleep) returns; a lost wake-up would hang here until the
  // test's timeout.
  void stops_whether_spinning_or_asleep() {
    for (int round = 0; round < 50; ++round) {
      QString why;
      {
        ThreadPool spinning(4);
        QVERIFY2(run_and_check(spinning, 100, 1, &why), qPrintable(why));
      }
      {
        ThreadPool asleep(4);
        QVERIFY2(run_and_check(asleep, 100, 1, &why), qPrintable(why));
        if (round % 10 == 0) std::this_thread::sleep_for(ThreadPool::kSpin * 3);
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestThreadPool)
#include "test_thread_pool.moc"
