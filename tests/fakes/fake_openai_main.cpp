// fake_openai: see fake_openai.h for what it speaks and how to script it.
// Settings (flags override the environment):
//   --listen HOST:PORT   FAKE_OPENAI_LISTEN    default 127.0.0.1:0 (any free port)
//   --api-key KEY        FAKE_OPENAI_API_KEY   required bearer key; default none
//   --chunking C         FAKE_OPENAI_CHUNKING  event | byte | whole | N bytes
//   --delay-ms N         FAKE_OPENAI_DELAY_MS  pause between writes, default 2
//   --script FILE        FAKE_OPENAI_SCRIPT    a JSON array of scripted responses
// Prints one line {"port": N} on stdout once listening; stops on SIGTERM/SIGINT.
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fake_openai.h"
#include "shared/config.h"
#include "shared/shutdown.h"

extern char** environ;

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the blocked signals.
  shared::ShutdownSignal shutdown;
  try {
    shared::ConfigSource source = shared::ConfigSource::from("", environ);
    for (int i = 1; i < argc; i += 2) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0 || i + 1 >= argc)
        throw std::runtime_error("unexpected argument " + name);
      std::string env = "FAKE_OPENAI_";
      for (char c : name.substr(2))
        env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      source.set(env, argv[i + 1]);
    }
    fakes::FakeOpenAiOptions options;
    const auto listen = source.listen("FAKE_OPENAI_LISTEN", "127.0.0.1:0");
    options.host = listen.host;
    options.port = listen.port;
    options.api_key = source.string("FAKE_OPENAI_API_KEY", "");
    options.default_chunking = source.string("FAKE_OPENAI_CHUNKING", "event");
    options.default_delay_ms =
        static_cast<int>(source.integer("FAKE_OPENAI_DELAY_MS", 2, 0, 60'000));
    const std::string script = source.string("FAKE_OPENAI_SCRIPT", "");
    if (!script.empty()) {
      std::ifstream in(script);
      std::stringstream ss;
      ss << in.rdbuf();
      options.script = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!options.script.is_array())
        throw shared::ConfigError("FAKE_OPENAI_SCRIPT", "not a JSON array: " + script);
    }
    fakes::FakeOpenAi fake(options);
    const int port = fake.start();
    std::cout << nlohmann::json{{"port", port}}.dump() << std::endl;
    shutdown.on_shutdown([&] { fake.stop(); });
    fake.wait();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fake_openai: " << e.what() << std::endl;
    return 2;
  }
}
