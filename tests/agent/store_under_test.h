// The stores the contract suite runs against: SQLite in a fresh file under a per-process
// temporary folder (removed at exit), and DynamoDB against a dynalite process started once for
// the test binary. Header-only: the test glob compiles *_test.cpp files only.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/loopback_ports.h"
#include "identifiers.h"
#include "shared/aws/aws_json_client.h"
#include "shared/aws/credentials.h"
#include "shared/http_client.h"
#include "store/dynamodb_session_store.h"
#include "store/session_store.h"
#include "store/sqlite_session_store.h"

namespace agent::testing {

// A folder for this process's test files, removed when the process exits.
inline const std::filesystem::path& scratch_folder() {
  struct Folder {
    std::filesystem::path path;
    Folder() {
      path = std::filesystem::temp_directory_path() /
             ("agent-tests-" + std::to_string(getpid()) + "-" + random_hex(3));
      std::filesystem::create_directories(path);
    }
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static Folder folder;
  return folder.path;
}

using test_support::free_port;
using test_support::port_open;

// One dynalite (node node_modules/dynalite/cli.js) for the whole test binary, killed at exit.
class Dynalite {
 public:
  static Dynalite& instance() {
    static Dynalite dynalite;
    return dynalite;
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  ~Dynalite() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  Dynalite() {
    const char* source = std::getenv("SUITE_SOURCE_DIR");
    if (!source)
      throw std::runtime_error("SUITE_SOURCE_DIR is not set: run the tests through ctest");
    const std::string cli = std::string(source) + "/node_modules/dynalite/cli.js";
    if (!std::filesystem::exists(cli))
      throw std::runtime_error(cli + " is missing: run npm install at the root");
    // Under load node may start slowly, or the port may be taken between picking and binding:
    // retry on a new port, and never leave a child behind.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      pid_ = fork();
      if (pid_ == 0) {
        const std::string port = std::to_string(port_);
        execlp("node", "node", cli.c_str(), "--port", port.c_str(), static_cast<char*>(nullptr));
        _exit(127);
      }
      bool exited = false;
      for (int i = 0; i < 600 && !exited; ++i) {
        if (port_open(port_)) return;
        exited = waitpid(pid_, nullptr, WNOHANG) == pid_;  // exited: try again
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
      pid_ = -1;
    }
    throw std::runtime_error("dynalite did not start");
  }
  int port_ = 0;
  pid_t pid_ = -1;
};

inline std::vector<std::string> stores_under_test() { return {"sqlite", "dynamodb"}; }

inline std::shared_ptr<shared::aws::AwsJsonClient> dynalite_client() {
  static shared::http::HttpClient http;
  shared::aws::AwsSettings settings;
  settings.region = "us-east-1";
  settings.endpoint_urls["dynamodb"] = Dynalite::instance().endpoint();
  settings.max_attempts = 3;
  auto credentials =
      shared::aws::make_static_credentials({"AKIDTEST", "test-secret", "", std::nullopt});
  return std::make_shared<shared::aws::AwsJsonClient>(settings, "dynamodb", "dynamodb", "1.0",
                                                      credentials, http);
}

inline std::unique_ptr<store::SessionStore> make_store_under_test(const std::string& kind) {
  if (kind == "sqlite") {
    store::SqliteSettings settings;
    settings.path = (scratch_folder() / ("store-" + random_hex(6) + ".db")).string();
    return std::make_unique<store::SqliteSessionStore>(settings);
  }
  if (kind == "dynamodb") {
    store::DynamoSettingsForStore settings;
    // One table per binary run; each test uses its own users, so tests stay independent.
    static const std::string table = "agent-contract-" + random_hex(4);
    settings.table = table;
    settings.create_table = true;
    settings.part_bytes = 64 * 1024;  // several parts for the long-message test
    return std::make_unique<store::DynamoSessionStore>(settings, dynalite_client());
  }
  throw std::runtime_error("unknown store " + kind);
}

}  // namespace agent::testing
