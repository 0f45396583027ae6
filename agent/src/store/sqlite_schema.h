// The SQLite store's schema and connection settings: migrations numbered by PRAGMA user_version,
// and WAL, which is checked rather than assumed (a journal mode SQLite cannot switch, e.g. on a
// filesystem without shared memory, would otherwise leave readers blocking the turn's writes).
#pragma once

#include <sqlite3.h>

#include <string>

namespace agent::store::sqlite {

// The schema version this agent creates and migrates to.
int schema_target_version();

// Sets the connection up (WAL, synchronous=NORMAL, foreign keys) and migrates the database at
// `path` to schema_target_version(). Throws StoreError with a one-line reason naming
// AGENT_SQLITE_PATH when WAL cannot be enabled or the file was written by a newer agent (which
// is then left untouched).
void prepare_database(sqlite3* db, const std::string& path);

}  // namespace agent::store::sqlite
