#include "shared/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace {

using shared::ConfigError;
using shared::ConfigSource;

ConfigSource src(std::map<std::string, std::string> values) {
  return ConfigSource(std::move(values));
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/config_test_XXXXXX";
  const int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(name) << text;
  return name;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigSource, EnvironmentOverridesTheYamlFile) {
  const auto path = write_temp("APP_LISTEN: 0.0.0.0:9000\nlog_level: debug\n");
  char e1[] = "APP_LISTEN=127.0.0.1:7000";
  char* env[] = {e1, nullptr};
  const auto source = ConfigSource::from(path, env);
  EXPECT_EQ(source.listen("APP_LISTEN", "0.0.0.0:8080").port, 7000);
  EXPECT_EQ(source.listen("APP_LISTEN", "0.0.0.0:8080").host, "127.0.0.1");
  EXPECT_EQ(source.string("LOG_LEVEL", "info"), "debug");  // file keys are matched in any case
  std::remove(path.c_str());
}

TEST(ConfigSource, YamlListsBecomeCommaSeparated) {
  const auto path =
      write_temp("APP_ALLOWED_ORIGINS:\n  - https://a.example\n  - https://b.example\n");
  const auto source = ConfigSource::from(path, nullptr);
  EXPECT_EQ(source.list("APP_ALLOWED_ORIGINS", {}),
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  std::remove(path.c_str());
}

TEST(ConfigSource, MissingFileNamesTheFlagAndThePath) {
  EXPECT_EQ(error_of([] { ConfigSource::from("/nonexistent/x.yaml", nullptr); }),
            "--config: cannot read file '/nonexistent/x.yaml'");
}

TEST(ConfigSource, InvalidYamlNamesTheLine) {
  const auto path = write_temp("A: 1\nB: [unclosed\n");
  const std::string err = error_of([&] { ConfigSource::from(path, nullptr); });
  EXPECT_NE(err.find("--config: "), std::string::npos) << err;
  EXPECT_NE(err.find("not valid YAML"), std::string::npos) << err;
  std::remove(path.c_str());
}

TEST(ConfigSource, NestedMapIsRefusedWithTheSettingName) {
  const auto path = write_temp("AGENT_STORE:\n  kind: sqlite\n");
  EXPECT_EQ(error_of([&] { ConfigSource::from(path, nullptr); }),
            "AGENT_STORE: must be a plain value or a list, not a map");
  std::remove(path.c_str());
}

// yaml-cpp throws its own exceptions for documents it parses but cannot convert (a list or map
// as a key): main catches ConfigError only, so anything else would abort the process.
TEST(ConfigSource, ANonScalarKeyIsAConfigErrorNamingTheFile) {
  const auto list_key = write_temp("APP_LISTEN: 0.0.0.0:9000\n? [a, b]\n: 1\n");
  EXPECT_EQ(error_of([&] { ConfigSource::from(list_key, nullptr); }),
            "--config: '" + list_key +
                "' line 2: a setting name must be a plain word, not a list or map");
  std::remove(list_key.c_str());
  const auto map_key = write_temp("{x: 1}: 2\n");
  EXPECT_EQ(
      error_of([&] { ConfigSource::from(map_key, nullptr); }),
      "--config: '" + map_key + "' line 1: a setting name must be a plain word, not a list or map");
  std::remove(map_key.c_str());
}

TEST(ConfigSource, AValueWithNewlinesKeepsTheErrorOnOneLine) {
  const auto path = write_temp("AGENT_THREADS: |\n  12\n  13\n");
  const auto source = ConfigSource::from(path, nullptr);
  EXPECT_EQ(error_of([&] { source.integer("AGENT_THREADS", 8, 1, 64); }),
            "AGENT_THREADS: expected a whole number, got '12\\n13\\n'");
  std::remove(path.c_str());
  EXPECT_EQ(shared::ConfigError("X", "bad\r\tvalue\x01").what(),
            std::string("X: bad\\r\\tvalue\\x01"));
}

TEST(ConfigSource, SizesThatWouldOverflowAreRefused) {
  const std::uint64_t max = ~0ull;
  ConfigSource s = src({{"A", "17179869184GiB"},  // 2^34 GiB = 2^64 bytes: wraps to 0
                        {"B", "99999999999999999999999"},
                        {"C", "16GiB"}});
  EXPECT_EQ(error_of([&] { s.size("A", 0, 0, max); }), "A: is too large, got '17179869184GiB'");
  EXPECT_EQ(error_of([&] { s.size("B", 0, 0, max); }),
            "B: is too large, got '99999999999999999999999'");
  EXPECT_EQ(s.size("C", 0, 0, max), 16ull << 30);
}

TEST(ConfigSource, DurationsTooLongForMillisecondsAreRefused) {
  using namespace std::chrono_literals;
  ConfigSource s = src({{"A", "99999999999999999999h"}, {"B", "3000000000000000000000ms"}});
  const auto forever = std::chrono::milliseconds::max();
  EXPECT_EQ(error_of([&] { s.duration("A", 0ms, 0ms, forever); }),
            "A: is too long (at most 100 years), got '99999999999999999999h'");
  EXPECT_EQ(error_of([&] { s.duration("B", 0ms, 0ms, forever); }),
            "B: is too long (at most 100 years), got '3000000000000000000000ms'");
}

TEST(ConfigSource, BadListenAddressNamesTheSetting) {
  ConfigSource s = src({{"HUB_LISTEN", "localhost"}});
  EXPECT_EQ(error_of([&] { s.listen("HUB_LISTEN", "0.0.0.0:3701"); }),
            "HUB_LISTEN: expected HOST:PORT, got 'localhost'");
  ConfigSource p = src({{"HUB_LISTEN", "0.0.0.0:70000"}});
  EXPECT_EQ(error_of([&] { p.listen("HUB_LISTEN", "0.0.0.0:3701"); }),
            "HUB_LISTEN: port must be a number from 0 to 65535, got '70000'");
}

TEST(ConfigSource, ListenDefaultsAndBracketedIpv6) {
  ConfigSource empty;
  const auto a = empty.listen("APP_LISTEN", "0.0.0.0:8080");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 8080);
  ConfigSource v6 = src({{"APP_LISTEN", "[::1]:9090"}});
  EXPECT_EQ(v6.listen("APP_LISTEN", "0.0.0.0:8080").host, "::1");
}

TEST(ConfigSource, IntegersAreRangeChecked) {
  ConfigSource s = src({{"AGENT_THREADS", "0"}, {"X", "12abc"}, {"Y", "42"}});
  EXPECT_EQ(error_of([&] { s.integer("AGENT_THREADS", 8, 1, 64); }),
            "AGENT_THREADS: must be between 1 and 64, got 0");
  EXPECT_EQ(error_of([&] { s.integer("X", 1, 0, 100); }),
            "X: expected a whole number, got '12abc'");
  EXPECT_EQ(s.integer("Y", 1, 0, 100), 42);
  EXPECT_EQ(s.integer("UNSET", 7, 0, 100), 7);
}

TEST(ConfigSource, BooleansAcceptCommonSpellingsOnly) {
  ConfigSource s = src({{"A", "1"}, {"B", "off"}, {"C", "yes please"}, {"D", "TRUE"}});
  EXPECT_TRUE(s.boolean("A", false));
  EXPECT_FALSE(s.boolean("B", true));
  EXPECT_TRUE(s.boolean("D", false));
  EXPECT_EQ(error_of([&] { s.boolean("C", false); }),
            "C: expected true/false or 1/0, got 'yes please'");
}

TEST(ConfigSource, DurationsTakeUnits) {
  using namespace std::chrono_literals;
  ConfigSource s =
      src({{"A", "250ms"}, {"B", "5"}, {"C", "2m"}, {"D", "1.5s"}, {"E", "3 days"}, {"F", "-1s"}});
  EXPECT_EQ(s.duration("A", 0ms), 250ms);
  EXPECT_EQ(s.duration("B", 0ms), 5000ms);
  EXPECT_EQ(s.duration("C", 0ms), 120000ms);
  EXPECT_EQ(s.duration("D", 0ms), 1500ms);
  EXPECT_EQ(error_of([&] { s.duration("E", 0ms); }),
            "E: unknown duration unit 'days' (use ms, s, m or h)");
  EXPECT_NE(error_of([&] { s.duration("F", 0ms); }).find("F: expected a duration"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { s.duration("C", 0ms, 0ms, 60s); }),
            "C: must be between 0ms and 60000ms, got '2m'");
}

TEST(ConfigSource, SizesTakeBinaryUnits) {
  ConfigSource s = src({{"A", "64KiB"}, {"B", "2MiB"}, {"C", "10 parsecs"}, {"D", "512"}});
  EXPECT_EQ(s.size("A", 0, 0, 1ull << 40), 65536u);
  EXPECT_EQ(s.size("B", 0, 0, 1ull << 40), 2u * 1024 * 1024);
  EXPECT_EQ(s.size("D", 0, 0, 1ull << 40), 512u);
  EXPECT_EQ(error_of([&] { s.size("C", 0, 0, 1ull << 40); }),
            "C: unknown size unit 'PARSECS' (use KiB, MiB or GiB)");
  EXPECT_EQ(error_of([&] { s.size("B", 0, 0, 1024); }),
            "B: must be between 0 and 1024 bytes, got '2MiB'");
}

TEST(ConfigSource, OneOfListsTheAllowedValues) {
  ConfigSource s = src({{"AGENT_STORE", "postgres"}});
  EXPECT_EQ(error_of([&] {
              s.one_of("AGENT_STORE", "sqlite", {"sqlite", "dynamodb"});
            }),
            "AGENT_STORE: must be one of sqlite, dynamodb, got 'postgres'");
}

TEST(ConfigSource, UrlsMustBeHttp) {
  ConfigSource s =
      src({{"AGENT_HUB_URL", "ftp://x"}, {"OK", "http://127.0.0.1:3701/.well-known/mercure"}});
  EXPECT_EQ(error_of([&] { s.url("AGENT_HUB_URL", "http://a"); }),
            "AGENT_HUB_URL: expected an http:// or https:// URL, got 'ftp://x'");
  EXPECT_EQ(s.url("OK", "http://a"), "http://127.0.0.1:3701/.well-known/mercure");
}

TEST(ConfigSource, RequiredSettingMissing) {
  ConfigSource s = src({{"EMPTY", "  "}});
  EXPECT_EQ(error_of([&] { s.required_string("MERCURE_PUBLISHER_JWT_KEY"); }),
            "MERCURE_PUBLISHER_JWT_KEY: is required but not set");
  EXPECT_EQ(error_of([&] { s.required_string("EMPTY"); }), "EMPTY: is required but not set");
}

TEST(ConfigSource, CommandLineAcceptsOnlyConfigFlag) {
  char prog[] = "agent", flag[] = "--verbose";
  char* argv[] = {prog, flag, nullptr};
  EXPECT_EQ(error_of([&] { ConfigSource::from_process(2, argv); }),
            "--verbose: unknown argument (the only flag is --config FILE)");
  char cfg[] = "--config";
  char* argv2[] = {prog, cfg, nullptr};
  EXPECT_EQ(error_of([&] { ConfigSource::from_process(2, argv2); }),
            "--config: expects a file name");
}

TEST(LogConfig, RejectsUnknownLevelAndFormat) {
  ConfigSource s = src({{"LOG_LEVEL", "loud"}});
  EXPECT_EQ(error_of([&] { shared::read_log_config(s); }),
            "LOG_LEVEL: must be one of trace, debug, info, warn, error, got 'loud'");
  ConfigSource f = src({{"LOG_FORMAT", "xml"}});
  EXPECT_EQ(error_of([&] { shared::read_log_config(f); }),
            "LOG_FORMAT: must be one of json, text, got 'xml'");
}

}  // namespace
