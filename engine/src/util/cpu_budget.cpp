#include "util/cpu_budget.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <set>
#include <sstream>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#elif defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

#include "util/mapped_file.h"

namespace ossdesk {
namespace {

std::string_view trimmed(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// A whole non-negative decimal number, nothing else.
std::optional<long long> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// The quota one cgroup directory sets, in CPUs; nullopt for none.
std::optional<double> v2_quota(const std::string& dir) {
  const auto text = read_text_file_if_present(dir + "/cpu.max");  // "max 100000" or "<quota> <period>" (microseconds)
  if (!text) return std::nullopt;
  const std::string_view t = trimmed(*text);
  const auto space = t.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = parse_count(t.substr(0, space)), period = parse_count(trimmed(t.substr(space + 1)));
  if (!quota || !period || *period == 0) return std::nullopt;  // "max": no quota
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> v1_quota(const std::string& dir) {
  const auto quota = read_text_file_if_present(dir + "/cpu.cfs_quota_us"), period = read_text_file_if_present(dir + "/cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  const auto q = parse_count(trimmed(*quota)), p = parse_count(trimmed(*period));  // "-1": no quota
  if (!q || !p || *p == 0) return std::nullopt;
  return static_cast<double>(*q) / static_cast<double>(*p);
}

// The smallest quota on the way from `root + path` up to `root`: a quota on
// a parent binds its children too.
template <typename Quota>
std::optional<double> tightest_quota(const std::string& root, std::string path, Quota quota) {
  std::optional<double> tightest;
  for (;;) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (const auto q = quota(root + (path == "/" ? "" : path)); q && (!tightest || *q < *tightest)) tightest = q;
    if (path.empty() || path == "/") break;
    const auto slash = path.rfind('/');
    path = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  }
  return tightest;
}

#if defined(__linux__)
std::optional<std::vector<int>> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return std::nullopt;  // more than CPU_SETSIZE CPUs
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  if (cpus.empty()) return std::nullopt;
  return cpus;
}
#endif

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  text = trimmed(text);
  if (text.empty()) return std::nullopt;
  std::vector<int> cpus;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = trimmed(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = part.find('-');
    const auto first = parse_count(part.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_count(part.substr(dash + 1));
    // A range wider than any machine is a misreading, not a CPU list.
    if (!first || !last || *last < *first || *last > 1 << 20) return std::nullopt;
    for (long long cpu = *first; cpu <= *last; ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

unsigned count_physical_cores(const std::vector<int>& cpus, const std::string& sysfs_cpu_dir) {
  std::set<std::vector<int>> shared_cores;  // each named by its CPUs, parsed, so "0-1" and "0,1" are one core
  unsigned alone = 0;                        // CPUs whose topology cannot be read
  for (int cpu : cpus) {
    const std::string topology = sysfs_cpu_dir + "/cpu" + std::to_string(cpu) + "/topology/";
    auto siblings = read_text_file_if_present(topology + "core_cpus_list");  // Linux 5.3+
    if (!siblings) siblings = read_text_file_if_present(topology + "thread_siblings_list");
    if (auto parsed = siblings ? parse_cpu_list(*siblings) : std::nullopt) shared_cores.insert(std::move(*parsed));
    else ++alone;
  }
  return static_cast<unsigned>(shared_cores.size()) + alone;
}

std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string& cgroup_root) {
  std::optional<double> quota;
  std::optional<std::string> v2_path;
  bool v1_cpu = false;  // the cpu controller is mounted as v1
  std::istringstream lines{std::string(proc_self_cgroup)};
  for (std::string line; std::getline(lines, line);) {
    // hierarchy-id:controller-list:path
    const auto first = line.find(':'), second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      v2_path = path;
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');)
      if (name == "cpu") {
        v1_cpu = true;
        quota = tightest_quota(cgroup_root + "/" + controllers, path, v1_quota);
      }
  }
  // A hybrid system lists both; the cpu controller is where the v1 line says.
  if (!v1_cpu && v2_path) quota = tightest_quota(cgroup_root, *v2_path, v2_quota);
  if (!quota) return std::nullopt;
  return std::max(1u, static_cast<unsigned>(std::floor(*quota)));
}

CpuBudget cpu_budget() {
  CpuBudget budget;
  budget.logical = budget.cores = std::max(1u, std::thread::hardware_concurrency());
#if defined(__linux__)
  if (const auto cpus = allowed_cpus()) {
    budget.logical = static_cast<unsigned>(cpus->size());
    budget.cores = count_physical_cores(*cpus, "/sys/devices/system/cpu");
  }
  if (const auto cgroup = read_text_file_if_present("/proc/self/cgroup")) {
    if (const auto limit = cgroup_cpu_limit(*cgroup, "/sys/fs/cgroup")) {
      budget.logical = std::min(budget.logical, *limit);
      budget.cores = std::min(budget.cores, *limit);
    }
  }
#elif defined(_WIN32)
  // The process's affinity within its processor group, and the cores of that
  // group that hold an allowed logical processor.
  DWORD_PTR process_mask = 0, system_mask = 0;
  USHORT group = 0, group_count = 1;
  GetProcessGroupAffinity(GetCurrentProcess(), &group_count, &group);
  if (group_count == 1 && GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) && process_mask != 0) {
    budget.logical = static_cast<unsigned>(std::popcount(static_cast<unsigned long long>(process_mask)));
    DWORD length = 0;
    GetLogicalProcessorInformationEx(RelationProcessorCore, nullptr, &length);
    std::vector<char> buffer(length);
    auto* info = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data());
    if (length > 0 && GetLogicalProcessorInformationEx(RelationProcessorCore, info, &length)) {
      unsigned cores = 0;
      for (DWORD offset = 0; offset < length;) {
        const auto* entry = reinterpret_cast<const SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data() + offset);
        const GROUP_AFFINITY& mask = entry->Processor.GroupMask[0];
        if (mask.Group == group && (mask.Mask & process_mask) != 0) ++cores;
        offset += entry->Size;
      }
      if (cores > 0) budget.cores = cores;
    }
  }
#endif
  budget.logical = std::max(1u, budget.logical);
  budget.cores = std::clamp(budget.cores, 1u, budget.logical);
  return budget;
}

}  // namespace ossdesk
