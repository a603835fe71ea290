// The `fleet` section of device.json: files or inline PEMs, and clear errors for what is wrong.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "privota/host/device_config.h"
#include "privota/host/fleet_config.h"
#include "test_support.h"

namespace privota::test {
namespace {

const std::string kPem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";

nlohmann::json section() {
  return {{"broker", "127.0.0.1:8883"},
          {"device_id", "dev-1"},
          {"ca_cert", "fleet/ca.pem"},
          {"cert", "fleet/cert.pem"},
          {"key", "fleet/key.pem"}};
}

TEST(FleetConfig, ReadsPemFilesRelativeToDeviceJsonAndRoundTripsInline) {
  TempDir dir;
  std::filesystem::create_directories(dir / "fleet");
  for (const char* name : {"fleet/ca.pem", "fleet/cert.pem", "fleet/key.pem"})
    write_text(dir / name, kPem + name);
  nlohmann::json input = section();
  input["user_consent"] = true;
  input["offer_again_s"] = 60;
  const auto config = host::FleetConfig::parse(input, dir.path());
  EXPECT_EQ(config.device_id, "dev-1");
  EXPECT_EQ(config.broker.host, "127.0.0.1");
  EXPECT_EQ(config.broker.port, 8883);
  EXPECT_EQ(config.broker.cert_pem, kPem + "fleet/cert.pem");
  EXPECT_TRUE(config.user_consent);
  EXPECT_EQ(config.offer_again_s, 60u);
  const auto resolved = host::FleetConfig::parse(config.to_json(), "/nonexistent");
  EXPECT_EQ(resolved.broker.key_pem, config.broker.key_pem);
  EXPECT_EQ(resolved.to_json(), config.to_json());
}

TEST(FleetConfig, IsTheOptionalFleetSectionOfDeviceJson) {
  TempDir dir;
  write_text(dir / "ca.pem", kPem);
  nlohmann::json device = {{"user_app", {{"ca_cert", "ca.pem"}}}, {"secure_boot", {{"enabled", false}}}};
  EXPECT_FALSE(host::DeviceConfig::parse(device.dump(), dir.path()).fleet.has_value());
  device["fleet"] = {{"broker", "127.0.0.1:1883"},
                     {"device_id", "d7"},
                     {"ca_cert", "ca.pem"},
                     {"cert", "ca.pem"},
                     {"key", "ca.pem"}};
  const auto config = host::DeviceConfig::parse(device.dump(), dir.path());
  ASSERT_TRUE(config.fleet.has_value());
  EXPECT_EQ(config.fleet->device_id, "d7");
  // The resolved form the bootloader hands the protected app carries it, PEMs inline.
  const auto resolved = host::DeviceConfig::parse(config.to_json(), "/nonexistent");
  ASSERT_TRUE(resolved.fleet.has_value());
  EXPECT_EQ(resolved.fleet->broker.ca_pem, kPem);
  EXPECT_EQ(resolved.fleet->broker.port, 1883);
  device["fleet"]["broker"] = "nowhere";
  EXPECT_THROW(host::DeviceConfig::parse(device.dump(), dir.path()), host::ConfigError);
}

TEST(FleetConfig, RefusesWhatIsWrongNamingIt) {
  TempDir dir;
  const struct {
    const char* key;
    nlohmann::json value;
    const char* error;
  } cases[] = {
      {"broker", "127.0.0.1", "\"broker\" must be HOST:PORT"},
      {"broker", "127.0.0.1:0", "\"broker\" must be HOST:PORT"},
      {"broker", "127.0.0.1:70000", "\"broker\" must be HOST:PORT"},
      {"device_id", "a/b", "\"device_id\""},
      {"device_id", 5, "\"device_id\""},
      {"cert", "missing.pem", "\"cert\": cannot read a PEM"},
      {"offer_again_s", 0, "\"offer_again_s\" must be > 0"},
      {"user_consent", "yes", "\"user_consent\" must be true or false"},
      {"brokr", "x", "unknown key \"brokr\""},
  };
  for (const auto& c : cases) {
    nlohmann::json input = section();
    for (const char* name : {"ca_cert", "cert", "key"})
      input[std::string(name) + "_pem"] = kPem;
    if (std::string(c.key) == "cert") input.erase("cert_pem");
    input[c.key] = c.value;
    try {
      host::FleetConfig::parse(input, dir.path());
      ADD_FAILURE() << c.key << " accepted";
    } catch (const host::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(c.error), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace privota::test
