#include "shard_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "loopback_socket.h"

namespace bench {
namespace {

constexpr std::size_t kMaxReplyBytes = 4 * 1024 * 1024;
constexpr int kReapAttempts = 50;  // x 100 ms before a child is killed

}  // namespace

ShardPool::ShardPool(const PubSubProtocol& protocol, std::vector<ShardSettings> shards) {
  for (auto& settings : shards) {
    int commands[2];
    int reports[2];
    if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(reports, O_CLOEXEC) != 0) {
      std::perror("pipe");
      continue;
    }
    std::fflush(nullptr);
    const int pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(commands[1]);
      close(reports[0]);
      for (const auto& sibling : children_) {
        close(sibling.command_fd);
        close(sibling.report_fd);
      }
      const int code = run_subscriber_shard(protocol, std::move(settings), commands[0], reports[1]);
      _exit(code);
    }
    close(commands[0]);
    close(reports[1]);
    if (pid < 0) {
      std::perror("fork");
      close(commands[1]);
      close(reports[0]);
      continue;
    }
    children_.push_back(Child{pid, commands[1], reports[0], {}});
  }
}

ShardPool::~ShardPool() {
  broadcast("quit");
  for (auto& child : children_) {
    close(child.command_fd);
    close(child.report_fd);
    bool reaped = false;
    for (int attempt = 0; attempt < kReapAttempts && !reaped; ++attempt) {
      reaped = waitpid(child.pid, nullptr, WNOHANG) == child.pid;
      if (!reaped) usleep(100'000);
    }
    if (!reaped) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, nullptr, 0);
    }
  }
}

void ShardPool::broadcast(const std::string& command) {
  const std::string line = command + "\n";
  for (auto& child : children_) {
    // Commands are tiny (far below PIPE_BUF): one write is atomic and complete.
    if (write(child.command_fd, line.data(), line.size()) < 0) std::perror("shard command");
  }
}

std::vector<nlohmann::json> ShardPool::collect(const std::string& kind, int timeout_ms) {
  std::vector<nlohmann::json> replies;
  std::vector<bool> answered(children_.size(), false);
  const int64_t deadline = monotonic_ns() + int64_t{timeout_ms} * 1'000'000;
  const std::string prefix = kind + " ";
  while (replies.size() < children_.size()) {
    const int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) break;
    std::vector<pollfd> fds;
    std::vector<std::size_t> owners;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      if (answered[i]) continue;
      fds.push_back(pollfd{children_[i].report_fd, POLLIN, 0});
      owners.push_back(i);
    }
    const int ready =
        poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if ((fds[k].revents & (POLLIN | POLLHUP)) == 0) continue;
      Child& child = children_[owners[k]];
      char chunk[65536];
      const ssize_t n = read(child.report_fd, chunk, sizeof chunk);
      if (n <= 0) {
        answered[owners[k]] = true;  // the shard is gone; it will not answer
        std::fprintf(stderr, "sse_load: shard %d ended early\n", child.pid);
        continue;
      }
      child.buffer.append(chunk, static_cast<std::size_t>(n));
      if (child.buffer.size() > kMaxReplyBytes) child.buffer.clear();
      std::size_t eol = 0;
      while (!answered[owners[k]] && (eol = child.buffer.find('\n')) != std::string::npos) {
        const std::string line = child.buffer.substr(0, eol);
        child.buffer.erase(0, eol + 1);
        if (line.rfind(prefix, 0) != 0) continue;  // a stale reply of another kind
        auto parsed = nlohmann::json::parse(line.substr(prefix.size()), nullptr, false);
        if (parsed.is_discarded()) continue;
        replies.push_back(std::move(parsed));
        answered[owners[k]] = true;
      }
    }
  }
  return replies;
}

std::vector<nlohmann::json> ShardPool::report(int timeout_ms) {
  broadcast("report");
  return collect("report", timeout_ms);
}

}  // namespace bench
