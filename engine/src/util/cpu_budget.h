// How many CPUs this process may compute on, for sizing the CPU backend's
// thread pool. std::thread::hardware_concurrency() counts every online
// logical CPU of the machine, which is wrong for a spinning pool three ways:
//   - `taskset`, `start /affinity` or a container's cpuset may allow fewer:
//     threads beyond them share cores and spin against each other;
//   - a cgroup CPU quota (`docker --cpus=2`, systemd's CPUQuota) may allow
//     less time than the CPUs it shows: the threads are throttled;
//   - with SMT two logical CPUs share a core's load and FMA units, so a second
//     thread per core adds no bandwidth to a memory-bound decode and takes
//     from the compute-bound prefill what it spends on coordination
//     (llama.cpp defaults to physical cores for the same reason).
// The default is therefore one thread per physical core the process may run
// on, at most the quota. Where the OS tells nothing, the counts fall back to
// hardware_concurrency().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ossdesk {

struct CpuBudget {
  unsigned logical = 1;  // logical CPUs this process may run on, at most the quota
  unsigned cores = 1;    // physical cores among them, at most the quota
};

// This process, now (the affinity and the quota can change while it runs).
CpuBudget cpu_budget();

// The parts, each reading from a path it is given so the tests can hand it a
// made-up /sys tree.

// A kernel CPU list ("0-3,8,10-11", as in sysfs and /proc/self/status) as
// CPU numbers; nullopt when it is not one.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// Physical cores among `cpus`: CPUs that share a
// `<sysfs_cpu_dir>/cpuN/topology/core_cpus_list` (or the older
// `thread_siblings_list`) share a core. A CPU whose topology cannot be read
// counts as a core of its own.
unsigned count_physical_cores(const std::vector<int>& cpus, const std::string& sysfs_cpu_dir);

// The whole CPUs a cgroup quota allows (rounded down, at least 1), read from
// the process's cgroup and each of its parents; nullopt when there is no
// quota. `proc_self_cgroup` is the text of /proc/self/cgroup; v2 ("0::/path")
// reads `<cgroup_root>/path/cpu.max`, v1 (a line naming the cpu controller)
// `<cgroup_root>/<controllers>/path/cpu.cfs_quota_us` and `cpu.cfs_period_us`.
std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string& cgroup_root);

}  // namespace ossdesk
