#include "model/provider_factory.h"

#include <stdexcept>

#include "model/bedrock_provider.h"
#include "model/demo_provider.h"
#include "model/openai_provider.h"

namespace agent::model {

std::unique_ptr<ModelProvider> make_model_provider(const AgentConfig& config) {
  if (config.model_provider == "demo") return std::make_unique<DemoProvider>(config.demo);
  if (config.model_provider == "bedrock") return make_bedrock_provider(config.bedrock);
  if (config.model_provider == "openai") return make_openai_provider(config.openai);
  throw std::runtime_error("AGENT_MODEL_PROVIDER: '" + config.model_provider +
                           "' is not available in this build; use 'demo', 'bedrock' or 'openai'");
}

}  // namespace agent::model
