// The DynamoDB table itself: calling it, creating it for local use (with the lock index), the
// TTL attribute, and readiness.
#include <thread>

#include "identifiers.h"
#include "shared/http_client.h"
#include "shared/logging.h"
#include "store/dynamodb_items.h"
#include "store/dynamodb_session_store.h"

namespace agent::store {

using nlohmann::json;
using namespace dynamo;

DynamoSessionStore::DynamoSessionStore(DynamoSettingsForStore settings,
                                       std::shared_ptr<shared::aws::AwsJsonClient> client)
    : settings_(std::move(settings)), client_(std::move(client)) {
  if (settings_.create_table) ensure_table();
}

json DynamoSessionStore::call(const std::string& operation, const json& body) {
  try {
    return client_->call("DynamoDB_20120810." + operation, body);
  } catch (const shared::aws::AwsError& e) {
    if (e.code() == "ConditionalCheckFailedException") throw;
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  } catch (const shared::http::TransportError& e) {
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  } catch (const shared::aws::CredentialsError& e) {
    throw StoreError("DynamoDB " + operation + ": " + e.what());
  }
}

void DynamoSessionStore::add_ttl(json& item) const {
  if (settings_.ttl.count() > 0) item["expires_at"] = N(now_ms() / 1000 + settings_.ttl.count());
}

void DynamoSessionStore::ensure_table() {
  try {
    call("DescribeTable", {{"TableName", settings_.table}});
    return;
  } catch (const StoreError& e) {
    if (std::string(e.what()).find("ResourceNotFoundException") == std::string::npos) throw;
  }
  shared::log::info("creating the DynamoDB table", {{"table", settings_.table}});
  try {
    // infra/modules/dynamodb creates the same keys and index in AWS (tests/infra checks it).
    call("CreateTable", {{"TableName", settings_.table},
                         {"AttributeDefinitions",
                          {{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                           {{"AttributeName", "sk"}, {"AttributeType", "S"}},
                           {{"AttributeName", kLockIndexHash}, {"AttributeType", "S"}},
                           {{"AttributeName", kLockIndexRange}, {"AttributeType", "N"}}}},
                         {"KeySchema",
                          {{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                           {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
                         {"GlobalSecondaryIndexes",
                          {{{"IndexName", kLockIndex},
                            {"KeySchema",
                             {{{"AttributeName", kLockIndexHash}, {"KeyType", "HASH"}},
                              {{"AttributeName", kLockIndexRange}, {"KeyType", "RANGE"}}}},
                            {"Projection", {{"ProjectionType", "ALL"}}}}}},
                         {"BillingMode", "PAY_PER_REQUEST"}});
  } catch (const StoreError& e) {
    // Another process may have created it meanwhile.
    if (std::string(e.what()).find("ResourceInUseException") == std::string::npos) throw;
  }
  for (int i = 0; i < 300; ++i) {
    const auto described = call("DescribeTable", {{"TableName", settings_.table}});
    if (described["Table"].value("TableStatus", "") == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (settings_.ttl.count() > 0) {
    try {
      call("UpdateTimeToLive",
           {{"TableName", settings_.table},
            {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "expires_at"}}}});
    } catch (const StoreError& e) {
      shared::log::warn("cannot enable TTL on the table; items keep expires_at anyway",
                        {{"error", e.what()}});
    }
  }
}

std::string DynamoSessionStore::check_ready() {
  try {
    const auto r = call("DescribeTable", {{"TableName", settings_.table}});
    const auto& table = r["Table"];
    const auto status = table.value("TableStatus", "");
    if (status != "ACTIVE") return "table " + settings_.table + " is " + status;
    // Without the lock index, crashed turns would never be recovered: not ready.
    for (const auto& index : table.value("GlobalSecondaryIndexes", json::array())) {
      if (index.value("IndexName", "") != kLockIndex) continue;
      const auto index_status = index.value("IndexStatus", "ACTIVE");
      return index_status == "ACTIVE" ? ""
                                      : "index " + std::string(kLockIndex) + " is " + index_status;
    }
    return "table " + settings_.table + " has no index " + kLockIndex +
           " (create it as infra/modules/dynamodb does)";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace agent::store
