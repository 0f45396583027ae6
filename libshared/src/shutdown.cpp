#include "shared/shutdown.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "shared/logging.h"

namespace shared {

ShutdownSignal::ShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);  // used to wake the watcher when the object goes away
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  watcher_ = std::thread([this, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR2) return;
      log::info("shutdown signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      run_callbacks();
    }
  });
}

ShutdownSignal::~ShutdownSignal() {
  pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
}

void ShutdownSignal::on_shutdown(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!fired_) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

void ShutdownSignal::trigger() { run_callbacks(); }

bool ShutdownSignal::fired() const {
  std::lock_guard lock(mutex_);
  return fired_;
}

void ShutdownSignal::run_callbacks() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mutex_);
    if (fired_) return;
    fired_ = true;
    callbacks.swap(callbacks_);
  }
  for (auto& cb : callbacks) cb();
}

void abandon_in_flight_work_and_exit(int status) {
  log::warn("exiting with requests still in flight", {{"status", status}});
  log::flush();
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(status);
}

}  // namespace shared
