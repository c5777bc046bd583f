// cpu_budget (util/cpu_budget.h), which sizes the CPU backend's thread pool:
// kernel CPU lists parse or are refused; physical cores are counted from a
// made-up sysfs tree (SMT pairs, a hybrid P/E layout, an old kernel's file
// name, a CPU without topology); cgroup v2 and v1 quotas are found along the
// cgroup's parents, the tightest wins; and on this machine, a thread pinned
// to one CPU gets a default pool of one thread.
#include <QtTest>
#include <filesystem>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#include "scratch_dir.h"
#include "util/cpu_budget.h"
#include "util/thread_pool.h"

using namespace ossdesk;

namespace {

// Writes `text` to dir/relative, making the folders on the way.
void put(const std::filesystem::path& dir, const std::string& relative, const std::string& text) {
  const std::filesystem::path path = dir / relative;
  std::filesystem::create_directories(path.parent_path());
  test::write_bytes(path, text.data(), text.size());
  QCOMPARE(std::filesystem::file_size(path), text.size());
}

// A sysfs cpu folder where each CPU's core is named by `file` with `siblings[cpu]`.
void put_topology(const std::filesystem::path& dir, const std::vector<std::string>& siblings,
                  const std::string& file = "core_cpus_list") {
  for (std::size_t cpu = 0; cpu < siblings.size(); ++cpu)
    put(dir, "cpu" + std::to_string(cpu) + "/topology/" + file, siblings[cpu] + "\n");
}

}  // namespace

class TestCpuBudget : public QObject {
  Q_OBJECT

 private slots:
  void cpu_lists_parse_as_the_kernel_writes_them() {
    QCOMPARE(parse_cpu_list("0-3,8,10-11\n").value(), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
    QCOMPARE(parse_cpu_list("5").value(), std::vector<int>{5});
    QCOMPARE(parse_cpu_list("0-2,1").value(), (std::vector<int>{0, 1, 2}));  // overlaps count once
    QCOMPARE(parse_cpu_list("0, 4").value(), (std::vector<int>{0, 4}));
    for (const char* bad : {"", "\n", "3-1", "a", "0,,1", "1-", "-1", "0-99999999"})
      QVERIFY2(!parse_cpu_list(bad), bad);
  }

  void smt_siblings_are_one_core() {
    const auto dir = test::scratch_dir("cpu_budget_smt");
    // 4 cores with 2 threads each, numbered as Linux does: CPU i and i + 4.
    put_topology(dir, {"0,4", "1,5", "2,6", "3,7", "0,4", "1,5", "2,6", "3,7"});
    const std::string root = dir.string();
    QCOMPARE(count_physical_cores({0, 1, 2, 3, 4, 5, 6, 7}, root), 4u);
    QCOMPARE(count_physical_cores({0, 4}, root), 1u);        // both threads of one core
    QCOMPARE(count_physical_cores({0, 1}, root), 2u);        // one thread of two cores
    QCOMPARE(count_physical_cores({0, 1, 2, 3}, root), 4u);  // taskset -c 0-3
    QCOMPARE(count_physical_cores({}, root), 0u);
  }

  void hybrid_cores_and_spellings_of_one_list() {
    const auto dir = test::scratch_dir("cpu_budget_hybrid");
    // Two P-cores with two threads ("0-1" and "2,3" name their pairs alike),
    // then four E-cores of one thread each.
    put_topology(dir, {"0-1", "0,1", "2,3", "2-3", "4", "5", "6", "7"});
    QCOMPARE(count_physical_cores({0, 1, 2, 3, 4, 5, 6, 7}, dir.string()), 6u);
  }

  void older_kernels_and_missing_topology() {
    const auto old_kernel = test::scratch_dir("cpu_budget_old_kernel");
    put_topology(old_kernel, {"0,2", "1,3", "0,2", "1,3"}, "thread_siblings_list");
    QCOMPARE(count_physical_cores({0, 1, 2, 3}, old_kernel.string()), 2u);
    const auto none = test::scratch_dir("cpu_budget_no_topology");  // every CPU counts
    QCOMPARE(count_physical_cores({0, 1, 2}, none.string()), 3u);
  }

  void cgroup_v2_quota_along_the_parents() {
    const auto dir = test::scratch_dir("cpu_budget_cgroup_v2");
    const std::string root = dir.string();
    QVERIFY(!cgroup_cpu_limit("0::/app/job\n", root));  // no cpu.max anywhere: no quota
    put(dir, "app/job/cpu.max", "max 100000\n");
    QVERIFY(!cgroup_cpu_limit("0::/app/job\n", root));
    put(dir, "app/cpu.max", "250000 100000\n");  // the parent allows 2.5 CPUs
    QCOMPARE(cgroup_cpu_limit("0::/app/job\n", root).value(), 2u);
    put(dir, "app/job/cpu.max", "50000 100000\n");  // half a CPU still gets one thread
    QCOMPARE(cgroup_cpu_limit("0::/app/job\n", root).value(), 1u);
    put(dir, "cpu.max", "400000 100000\n");  // a container's own root
    QCOMPARE(cgroup_cpu_limit("0::/\n", root).value(), 4u);
    put(dir, "app/job/cpu.max", "garbage\n");
    QCOMPARE(cgroup_cpu_limit("0::/app/job/\n", root).value(), 2u);  // the parent's still binds
  }

  void cgroup_v1_quota_and_hybrid_systems() {
    const auto dir = test::scratch_dir("cpu_budget_cgroup_v1");
    const std::string root = dir.string();
    const char* cgroup = "12:memory:/docker/x\n4:cpu,cpuacct:/docker/x\n0::/user.slice\n";
    put(dir, "cpu,cpuacct/docker/x/cpu.cfs_quota_us", "-1\n");
    put(dir, "cpu,cpuacct/docker/x/cpu.cfs_period_us", "100000\n");
    put(dir, "user.slice/cpu.max", "100000 100000\n");  // v2 is not where the cpu controller is
    QVERIFY(!cgroup_cpu_limit(cgroup, root));
    put(dir, "cpu,cpuacct/docker/x/cpu.cfs_quota_us", "300000\n");
    QCOMPARE(cgroup_cpu_limit(cgroup, root).value(), 3u);
    QVERIFY(!cgroup_cpu_limit("not a cgroup line\n\n", root));
  }

  // The real thing: pinned to one CPU (as `taskset -c 0` would), this thread
  // sees a budget of one, and a default pool gets one thread.
  void a_pinned_thread_gets_a_pool_of_one() {
    const CpuBudget all = cpu_budget();
    QVERIFY(all.cores >= 1);
    QVERIFY(all.cores <= all.logical);
    QVERIFY(all.logical <= std::max(1u, std::thread::hardware_concurrency()));
#if defined(__linux__)
    cpu_set_t before, one;
    QCOMPARE(sched_getaffinity(0, sizeof before, &before), 0);
    int first = 0;
    while (!CPU_ISSET(first, &before)) ++first;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);
    const CpuBudget pinned = cpu_budget();
    const unsigned pool_size = ThreadPool().size();
    QCOMPARE(sched_setaffinity(0, sizeof before, &before), 0);
    QCOMPARE(pinned.logical, 1u);
    QCOMPARE(pinned.cores, 1u);
    QCOMPARE(pool_size, 1u);
    QCOMPARE(cpu_budget().logical, all.logical);
#endif
  }
};

QTEST_GUILESS_MAIN(TestCpuBudget)
#include "test_cpu_budget.moc"
