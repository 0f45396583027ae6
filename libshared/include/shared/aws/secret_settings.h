// The one step each executable's configuration reader takes before it reads its keys: every
// secret-capable setting NAME whose NAME_SECRET_ARN is set ("ARN" or "ARN#json_field") gets its
// value from Secrets Manager; without NAME_SECRET_ARN, NAME is read as it is. The Secrets Manager
// client is built from the same source's AWS settings (region, endpoint overrides, credentials
// chain) and only when some NAME_SECRET_ARN is set, so executables without secrets need no AWS
// configuration at all.
#pragma once

#include <string>
#include <vector>

#include "shared/aws/secrets_manager.h"
#include "shared/config.h"

namespace shared::aws {

// Returns `source` with each resolved NAME set to its secret's value (and that value registered
// as a secret for log redaction). Throws ConfigError naming NAME_SECRET_ARN when a secret cannot
// be read (or the AWS settings it needs are bad, naming those); the message names the secret's
// ARN and why, never its value.
ConfigSource resolve_secret_settings(const ConfigSource& source,
                                     const std::vector<std::string>& names);

// The same with a given client (tests, or a caller that already has one).
ConfigSource resolve_secret_settings(const ConfigSource& source,
                                     const std::vector<std::string>& names,
                                     SecretsManagerClient& client);

}  // namespace shared::aws
