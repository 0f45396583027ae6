// Runs the subscriber shards as child processes (one process can hold about 19k sockets under
// the 20k open-files limit) and talks to them over pipes: broadcast a command, then collect one
// reply line per shard with a deadline. Children die with the coordinator (PR_SET_PDEATHSIG) and
// are reaped, or killed, when the pool is destroyed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pubsub_protocol.h"
#include "subscriber_shard.h"

namespace bench {

class ShardPool {
 public:
  ShardPool(const PubSubProtocol& protocol, std::vector<ShardSettings> shards);
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  std::size_t size() const { return children_.size(); }
  void broadcast(const std::string& command);
  // One JSON payload per shard from lines "<kind> {json}"; shards that miss the deadline are
  // left out (the caller sees fewer entries than size()).
  std::vector<nlohmann::json> collect(const std::string& kind, int timeout_ms);
  // broadcast("report") + collect("report").
  std::vector<nlohmann::json> report(int timeout_ms);

 private:
  struct Child {
    int pid = -1;
    int command_fd = -1;
    int report_fd = -1;
    std::string buffer;
  };
  std::vector<Child> children_;
};

}  // namespace bench
