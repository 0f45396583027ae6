// Picks the model provider named by AGENT_MODEL_PROVIDER.
#pragma once

#include <memory>

#include "agent_config.h"
#include "model/model_provider.h"

namespace agent::model {

// Throws std::runtime_error with a one-line reason naming the setting when the provider cannot
// be built.
std::unique_ptr<ModelProvider> make_model_provider(const AgentConfig& config);

}  // namespace agent::model
