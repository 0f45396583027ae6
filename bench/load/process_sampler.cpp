#include "process_sampler.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace bench {
namespace {

// pid -> parent pid for every process visible in /proc.
std::map<int, int> parent_map() {
  std::map<int, int> parents;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return parents;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    char state = 0;
    int parent = 0;
    if (fields >> state >> parent) parents[static_cast<int>(pid)] = parent;
  }
  closedir(proc);
  return parents;
}

double cpu_seconds_of(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  // After the name: state(3) ppid(4) ... utime(14) stime(15).
  long long utime = 0;
  long long stime = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::atoll(field.c_str());
    if (index == 15) stime = std::atoll(field.c_str());
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t kib_field(const std::string& path, const std::string& name) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind(name, 0) == 0) return std::atoll(line.c_str() + name.size()) * 1024;
  }
  return 0;
}

}  // namespace

int64_t kernel_tcp_buffer_bytes() {
  std::ifstream sockstat("/proc/net/sockstat");
  std::string line;
  while (std::getline(sockstat, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    const auto at = line.find(" mem ");
    if (at == std::string::npos) return 0;
    return std::atoll(line.c_str() + at + 5) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
  }
  return 0;
}

ProcessUsage ProcessSampler::sample() const {
  ProcessUsage usage;
  if (roots_.empty()) return usage;
  const auto parents = parent_map();
  std::set<int> members(roots_.begin(), roots_.end());
  // Descendants: repeat until no process joins (bounded by the process count).
  for (std::size_t round = 0; round < parents.size(); ++round) {
    bool grew = false;
    for (const auto& [pid, parent] : parents) {
      if (members.count(parent) != 0 && members.insert(pid).second) grew = true;
    }
    if (!grew) break;
  }
  for (const int pid : members) {
    if (parents.count(pid) == 0) continue;  // gone
    const std::string base = "/proc/" + std::to_string(pid);
    ++usage.processes;
    usage.rss_bytes += kib_field(base + "/status", "VmRSS:");
    usage.pss_bytes += kib_field(base + "/smaps_rollup", "Pss:");
    usage.cpu_seconds += cpu_seconds_of(pid);
  }
  return usage;
}

}  // namespace bench
