#include "model/provider_factory.h"

#include <stdexcept>

#include "model/demo_provider.h"

namespace agent::model {

std::unique_ptr<ModelProvider> make_model_provider(const AgentConfig& config) {
  if (config.model_provider == "demo") return std::make_unique<DemoProvider>(config.demo);
  throw std::runtime_error("AGENT_MODEL_PROVIDER: '" + config.model_provider +
                           "' is not available in this build yet; use 'demo'");
}

}  // namespace agent::model
