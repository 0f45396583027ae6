// fake_bedrock: see fake_bedrock.h for what it speaks and how to script it.
// Settings (flags override the environment):
//   --listen HOST:PORT      FAKE_BEDROCK_LISTEN             default 127.0.0.1:0 (any free port)
//   --access-key-id ID      FAKE_BEDROCK_ACCESS_KEY_ID      default AKIDFAKEBEDROCK
//   --secret-access-key K   FAKE_BEDROCK_SECRET_ACCESS_KEY  default fake-bedrock-secret
//   --chunking C            FAKE_BEDROCK_CHUNKING           frame | byte | whole | N bytes
//   --delay-ms N            FAKE_BEDROCK_DELAY_MS           pause between writes, default 2
//   --script FILE           FAKE_BEDROCK_SCRIPT             a JSON array of scripted responses
//   --clock-offset-ms N     FAKE_BEDROCK_CLOCK_OFFSET_MS    shift the fake's clock (skew tests),
//   default 0
// Prints one line {"port": N} on stdout once listening; stops on SIGTERM/SIGINT.
#include <fstream>
#include <iostream>
#include <sstream>

#include "fake_bedrock.h"
#include "shared/config.h"
#include "shared/shutdown.h"

extern char** environ;

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the blocked signals.
  shared::ShutdownSignal shutdown;
  try {
    std::map<std::string, std::string> flags;
    for (int i = 1; i + 1 < argc; i += 2) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0) throw std::runtime_error("unexpected argument " + name);
      std::string env = "FAKE_BEDROCK_";
      for (char c : name.substr(2))
        env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      flags[env] = argv[i + 1];
    }
    shared::ConfigSource source = shared::ConfigSource::from("", environ);
    for (const auto& [k, v] : flags) source.set(k, v);
    fakes::FakeBedrockOptions options;
    const auto listen = source.listen("FAKE_BEDROCK_LISTEN", "127.0.0.1:0");
    options.host = listen.host;
    options.port = listen.port;
    options.access_key_id = source.string("FAKE_BEDROCK_ACCESS_KEY_ID", options.access_key_id);
    options.secret_access_key =
        source.string("FAKE_BEDROCK_SECRET_ACCESS_KEY", options.secret_access_key);
    options.default_chunking = source.string("FAKE_BEDROCK_CHUNKING", "frame");
    options.default_delay_ms =
        static_cast<int>(source.integer("FAKE_BEDROCK_DELAY_MS", 2, 0, 60'000));
    options.clock_offset = std::chrono::milliseconds(
        source.integer("FAKE_BEDROCK_CLOCK_OFFSET_MS", 0, -86'400'000LL * 365, 86'400'000LL * 365));
    const std::string script = source.string("FAKE_BEDROCK_SCRIPT", "");
    if (!script.empty()) {
      std::ifstream in(script);
      std::stringstream ss;
      ss << in.rdbuf();
      options.script = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!options.script.is_array())
        throw shared::ConfigError("FAKE_BEDROCK_SCRIPT", "not a JSON array: " + script);
    }
    fakes::FakeBedrock fake(options);
    const int port = fake.start();
    std::cout << nlohmann::json{{"port", port}}.dump() << std::endl;
    shutdown.on_shutdown([&] { fake.stop(); });
    fake.wait();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fake_bedrock: " << e.what() << std::endl;
    return 2;
  }
}
