#include "subscriber.h"

namespace hub {

bool Subscriber::wants(const Update& update, TopicSelectorStore& selectors) const {
  if (!selectors.any_matches(update.topics, topics)) return false;
  if (!update.is_private) return true;
  return allowed_private && selectors.any_matches(update.topics, *allowed_private);
}

}  // namespace hub
