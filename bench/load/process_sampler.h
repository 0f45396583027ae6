// Reads a server's resource use from /proc: the resident memory and CPU time of a process and
// all its descendants (nginx workers, pushpin's condure/proxy/handler/zurl), so every server is
// measured the same way whatever its process layout.
#pragma once

#include <cstdint>
#include <vector>

namespace bench {

struct ProcessUsage {
  int processes = 0;
  int64_t rss_bytes = 0;  // sum of VmRSS: counts pages shared between processes once per process
  int64_t pss_bytes = 0;  // sum of Pss: shared pages split between sharers (fair for multi-process)
  double cpu_seconds = 0;  // user + system
};

// Memory the kernel holds for all TCP socket buffers (/proc/net/sockstat "TCP: ... mem N",
// in pages): where a slow consumer's backlog sits before a server has to buffer it itself.
int64_t kernel_tcp_buffer_bytes();

class ProcessSampler {
 public:
  // `roots` are the servers' top processes; their descendants are found at each sample.
  explicit ProcessSampler(std::vector<int> roots) : roots_(std::move(roots)) {}
  bool empty() const { return roots_.empty(); }
  ProcessUsage sample() const;

 private:
  std::vector<int> roots_;
};

}  // namespace bench
