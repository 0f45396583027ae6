// AWS settings as the SDKs read them: region order, endpoint overrides, profile files.
#include "shared/aws/settings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "shared/aws/profile_file.h"

using namespace shared::aws;
using shared::ConfigError;
using shared::ConfigSource;

TEST(AwsSettings, RegionPrefersAwsRegionThenDefaultRegion) {
  EXPECT_EQ(read_aws_settings(
                ConfigSource(std::map<std::string, std::string>{{"AWS_REGION", "eu-west-1"},
                                                                {"AWS_DEFAULT_REGION", "us-east-2"},
                                                                {"HOME", "/nonexistent"}}))
                .region,
            "eu-west-1");
  EXPECT_EQ(read_aws_settings(ConfigSource(std::map<std::string, std::string>{
                                  {"AWS_DEFAULT_REGION", "us-east-2"}, {"HOME", "/nonexistent"}}))
                .region,
            "us-east-2");
}

TEST(AwsSettings, RegionFallsBackToTheProfilesRegion) {
  auto dir =
      std::filesystem::temp_directory_path() / ("aws-settings-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config")
      << "[default]\nregion = us-west-1\n\n[profile work]\nregion=ap-southeast-2 # comment\n";
  auto s = read_aws_settings(ConfigSource(std::map<std::string, std::string>{
      {"AWS_CONFIG_FILE", (dir / "config").string()}, {"AWS_PROFILE", "work"}}));
  EXPECT_EQ(s.region, "ap-southeast-2");
  EXPECT_EQ(s.profile, "work");
  auto d = read_aws_settings(ConfigSource(
      std::map<std::string, std::string>{{"AWS_CONFIG_FILE", (dir / "config").string()}}));
  EXPECT_EQ(d.region, "us-west-1");
  std::filesystem::remove_all(dir);
}

TEST(AwsSettings, ProfileEndpointUrlAppliesWhenTheEnvironmentSetsNone) {
  auto dir =
      std::filesystem::temp_directory_path() / ("aws-settings-ep-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config")
      << "[default]\nregion = us-west-1\nendpoint_url = http://127.0.0.1:4566\n";
  auto s = read_aws_settings(ConfigSource(
      std::map<std::string, std::string>{{"AWS_CONFIG_FILE", (dir / "config").string()}}));
  EXPECT_EQ(resolve_endpoint(s, "dynamodb"), "http://127.0.0.1:4566");
  auto env = read_aws_settings(ConfigSource(std::map<std::string, std::string>{
      {"AWS_CONFIG_FILE", (dir / "config").string()}, {"AWS_ENDPOINT_URL", "http://127.0.0.1:9"}}));
  EXPECT_EQ(resolve_endpoint(env, "dynamodb"), "http://127.0.0.1:9");
  std::filesystem::remove_all(dir);
}

TEST(AwsSettings, MalformedRegionNamesTheSetting) {
  try {
    read_aws_settings(ConfigSource(std::map<std::string, std::string>{{"AWS_REGION", "US EAST"}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_REGION");
  }
}

TEST(AwsSettings, EndpointDefaultsToTheRegionalAwsHost) {
  AwsSettings s = read_aws_settings(ConfigSource(
      std::map<std::string, std::string>{{"AWS_REGION", "us-west-2"}, {"HOME", "/nonexistent"}}));
  EXPECT_EQ(resolve_endpoint(s, "bedrock-runtime"),
            "https://bedrock-runtime.us-west-2.amazonaws.com");
  EXPECT_EQ(resolve_endpoint(s, "dynamodb"), "https://dynamodb.us-west-2.amazonaws.com");
  EXPECT_EQ(resolve_endpoint(s, "secrets-manager"),
            "https://secretsmanager.us-west-2.amazonaws.com");
  s.region = "cn-north-1";
  EXPECT_EQ(resolve_endpoint(s, "dynamodb"), "https://dynamodb.cn-north-1.amazonaws.com.cn");
}

TEST(AwsSettings, ServiceOverrideBeatsGlobalOverride) {
  AwsSettings s = read_aws_settings(ConfigSource(std::map<std::string, std::string>{
      {"AWS_REGION", "us-east-1"},
      {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
      {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9999"},
      {"HOME", "/nonexistent"}}));
  EXPECT_EQ(resolve_endpoint(s, "bedrock-runtime"), "http://127.0.0.1:9999");
  EXPECT_EQ(resolve_endpoint(s, "dynamodb"), "http://127.0.0.1:4566");
  EXPECT_EQ(endpoint_variable("secrets-manager"), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
  s.ignore_configured_endpoint_urls = true;
  EXPECT_EQ(resolve_endpoint(s, "dynamodb"), "https://dynamodb.us-east-1.amazonaws.com");
}

TEST(AwsSettings, MissingRegionWithoutOverrideNamesAwsRegion) {
  AwsSettings s =
      read_aws_settings(ConfigSource(std::map<std::string, std::string>{{"HOME", "/nonexistent"}}));
  try {
    resolve_endpoint(s, "dynamodb");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_REGION");
  }
}

TEST(AwsSettings, BadEndpointUrlNamesTheVariable) {
  try {
    read_aws_settings(ConfigSource(
        std::map<std::string, std::string>{{"AWS_ENDPOINT_URL_DYNAMODB", "localhost:8000"}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_ENDPOINT_URL_DYNAMODB");
  }
}

TEST(ProfileFile, ParsesSectionsCommentsAndCase) {
  auto p = parse_profile_text(
      "# c\n[default]\nAWS_Access_Key_ID = AK\naws_secret_access_key=SK ; note\n"
      "[profile x]\n  nested = 1\nregion=eu-west-3\n[broken\nkey=v\n");
  EXPECT_EQ(p["default"]["aws_access_key_id"], "AK");
  EXPECT_EQ(p["default"]["aws_secret_access_key"], "SK");
  EXPECT_EQ(p["profile x"]["region"], "eu-west-3");
  EXPECT_EQ(p["profile x"].count("nested"), 0u);
}

TEST(AwsSettings, Ec2MetadataV1CanBeDisabled) {
  const std::map<std::string, std::string> base{{"HOME", "/nonexistent"}};
  EXPECT_FALSE(read_aws_settings(ConfigSource(base)).ec2_metadata_v1_disabled);
  auto with = base;
  with["AWS_EC2_METADATA_V1_DISABLED"] = "true";
  EXPECT_TRUE(read_aws_settings(ConfigSource(with)).ec2_metadata_v1_disabled);
  with["AWS_EC2_METADATA_V1_DISABLED"] = "maybe";
  try {
    read_aws_settings(ConfigSource(with));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "AWS_EC2_METADATA_V1_DISABLED");
  }
}
