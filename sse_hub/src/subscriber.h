// One subscriber as the dispatcher sees it: what it subscribed to, which private topics its JWT
// allows, and where its updates go. Lives on one event loop; never shared across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "topic_selector_store.h"
#include "update.h"

namespace hub {

// Where a subscriber's updates go (a streaming connection; a recorder in tests).
class UpdateSink {
 public:
  virtual ~UpdateSink() = default;
  virtual void deliver(const UpdatePtr& update) = 0;
};

struct Subscriber {
  std::string id;                                           // urn:uuid:...
  std::vector<std::string> topics;                          // topic selectors from the query
  std::optional<std::vector<std::string>> allowed_private;  // mercure.subscribe selectors
  std::shared_ptr<const nlohmann::json> payload;  // mercure.payload, for subscription events
  std::uint64_t last_sequence = 0;                // newest update already sent (or replayed)
  UpdateSink* sink = nullptr;

  // Subscribed to one of the update's topics and, for a private update, allowed one of them.
  bool wants(const Update& update, TopicSelectorStore& selectors) const;
};

}  // namespace hub
