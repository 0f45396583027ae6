// Mercure JWTs for the load generator: HS256 over the claims a hub expects from a publisher
// ({"mercure":{"publish":["*"]}}) or a subscriber ({"mercure":{"subscribe":[topic]}}).
#pragma once

#include <string>

namespace bench {

std::string publisher_token(const std::string& key);
std::string subscriber_token(const std::string& key, const std::string& topic);

}  // namespace bench
