// The stores the contract suite runs against: SQLite in a fresh file under a per-process
// temporary folder (removed at exit), and DynamoDB against a dynalite process started once for
// the test binary. Header-only: the test glob compiles *_test.cpp files only.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "identifiers.h"
#include "store/session_store.h"
#include "store/sqlite_session_store.h"

namespace agent::testing {

// A folder for this process's test files, removed when the process exits.
inline const std::filesystem::path& scratch_folder() {
  struct Folder {
    std::filesystem::path path;
    Folder() {
      path = std::filesystem::temp_directory_path() / ("agent-tests-" + std::to_string(getpid()) + "-" + random_hex(3));
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

inline std::vector<std::string> stores_under_test() { return {"sqlite"}; }

inline std::unique_ptr<store::SessionStore> make_store_under_test(const std::string& kind) {
  if (kind == "sqlite") {
    store::SqliteSettings settings;
    settings.path = (scratch_folder() / ("store-" + random_hex(6) + ".db")).string();
    return std::make_unique<store::SqliteSessionStore>(settings);
  }
  throw std::runtime_error("unknown store " + kind);
}

}  // namespace agent::testing
