// device.json: what a simulated device trusts. Every mistake is refused with a line that names it, and the
// resolved form the bootloader hands over reads back the same.
#include "privota/host/device_config.h"

#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

namespace privota::host {
namespace {

const std::string kDigest(64, 'a');

class DeviceConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { test::write_text(dir_ / "ca.pem", "-----BEGIN CERTIFICATE-----\nx\n"); }

  // A valid file with `extra` spliced into the top-level object.
  std::string config(const std::string& extra = "") const {
    return R"({"chip": "esp32c3", "secure_boot": {"enabled": true, "key_digests": [")" + kDigest +
           R"("]}, "user_app": {"ca_cert": "ca.pem"})" + extra + "}";
  }
  std::string refusal(const std::string& text) const {
    try {
      (void)DeviceConfig::parse(text, dir_.path());
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "accepted";
  }
  test::TempDir dir_;
};

TEST_F(DeviceConfigTest, ReadsPathsRelativeToTheFileAndKeepsDefaults) {
  test::write_text(dir_ / "device.json", config(R"(, "ota": {"allowed_hosts": ["127.0.0.1"],
                                                             "allowed_ports": [8443]})"));
  const DeviceConfig c = DeviceConfig::load(dir_ / "device.json");
  EXPECT_EQ(c.user_app.ca_pem, "-----BEGIN CERTIFICATE-----\nx\n");
  EXPECT_EQ(c.secure_boot.key_digests.size(), 1u);
  EXPECT_EQ(c.secure_boot.key_digests[0].bytes[0], 0xAA);
  EXPECT_EQ(c.ota.allowed_hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c.ota.allowed_ports, std::vector<uint16_t>{8443});
  EXPECT_FALSE(c.ota.allow_http);
  EXPECT_EQ(c.ota.max_url_length, 256u);
  EXPECT_EQ(c.user_app.confirm_timeout_ms, 10000u);
}

TEST_F(DeviceConfigTest, ResolvesTheChipOnceAndWritesItBackByName) {
  const std::string s3 =
      R"({"chip": "esp32s3", "secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem"}})";
  const DeviceConfig c = DeviceConfig::parse(s3, dir_.path());
  EXPECT_EQ(c.chip, ChipId::kEsp32S3);
  EXPECT_NE(c.to_json().find(R"("chip":"esp32s3")"), std::string::npos) << c.to_json();
  // Absent: the example device's chip.
  const std::string none = R"({"secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem"}})";
  EXPECT_EQ(DeviceConfig::parse(none, dir_.path()).chip, ChipId::kEsp32C3);
}

TEST_F(DeviceConfigTest, SandboxDegradationIsAnExplicitChoice) {
  const std::string head = R"({"secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem")";
  EXPECT_FALSE(DeviceConfig::parse(head + "}}", dir_.path()).user_app.sandbox_allow_degraded);
  const DeviceConfig c =
      DeviceConfig::parse(head + R"(, "sandbox": {"allow_degraded": true}}})", dir_.path());
  EXPECT_TRUE(c.user_app.sandbox_allow_degraded);
  EXPECT_TRUE(DeviceConfig::parse(c.to_json(), "/nonexistent").user_app.sandbox_allow_degraded);
  EXPECT_NE(refusal(head + R"(, "sandbox": {"allow_degrade": true}}})").find("allow_degrade"),
            std::string::npos);
  EXPECT_NE(refusal(head + R"(, "sandbox": {"allow_degraded": "yes"}}})").find("allow_degraded"),
            std::string::npos);
}

TEST_F(DeviceConfigTest, ReadsTheLowSpeedLimitAndTheJobDeadline) {
  const DeviceConfig defaults = DeviceConfig::parse(config(), dir_.path());
  EXPECT_EQ(defaults.ota.low_speed_bytes, 4096u);
  EXPECT_EQ(defaults.ota.low_speed_window_ms, 30000u);
  EXPECT_EQ(defaults.ota.job_deadline_ms, 1800000u);
  const DeviceConfig c = DeviceConfig::parse(
      config(R"(, "ota": {"low_speed_bytes": 100, "low_speed_window_ms": 5000, "job_deadline_ms": 0})"),
      dir_.path());
  EXPECT_EQ(c.ota.low_speed_bytes, 100u);
  EXPECT_EQ(c.ota.low_speed_window_ms, 5000u);
  EXPECT_EQ(c.ota.job_deadline_ms, 0u);
  EXPECT_EQ(DeviceConfig::parse(c.to_json(), "/nonexistent").to_json(), c.to_json());
  EXPECT_NE(refusal(config(R"(, "ota": {"low_speed_bytes": 0})")).find("low_speed_window_ms"),
            std::string::npos);
  EXPECT_NE(refusal(config(R"(, "ota": {"job_deadline_ms": -1})")).find("job_deadline_ms"),
            std::string::npos);
}

TEST_F(DeviceConfigTest, ReadsTheBootBudget) {
  const std::string head = R"({"secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem")";
  EXPECT_EQ(DeviceConfig::parse(head + "}}", dir_.path()).user_app.boot_budget, 5u);
  const DeviceConfig c = DeviceConfig::parse(head + R"(, "boot_budget": 2}})", dir_.path());
  EXPECT_EQ(c.user_app.boot_budget, 2u);
  EXPECT_EQ(DeviceConfig::parse(c.to_json(), "/nonexistent").user_app.boot_budget, 2u);
  EXPECT_EQ(DeviceConfig::parse(head + R"(, "boot_budget": 0}})", dir_.path()).user_app.boot_budget, 0u);
  // uotadata keeps the count in one byte: a budget it can never reach would be no budget at all.
  EXPECT_NE(refusal(head + R"(, "boot_budget": 256}})").find("boot_budget above 255"), std::string::npos);
  EXPECT_NE(refusal(head + R"(, "boot_budget": -1}})").find("user_app.boot_budget"), std::string::npos);
}

TEST_F(DeviceConfigTest, ResolvedFormReadsBackTheSame) {
  DeviceConfig c =
      DeviceConfig::parse(config(R"(, "ota": {"allowed_hosts": ["*.example.com"]})"), dir_.path());
  c.user_app.args = {"https://x.example.com/u.bin"};
  c.protected_update_url = "https://x.example.com/p.bin";
  // The protected app has no file system: everything is inline, no path is needed.
  const DeviceConfig back = DeviceConfig::parse(c.to_json(), "/nonexistent");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.user_app.ca_pem, c.user_app.ca_pem);
  EXPECT_EQ(back.user_app.args, c.user_app.args);
}

TEST_F(DeviceConfigTest, RefusesMistakesWithTheirReason) {
  struct Row {
    std::string text;
    std::string says;
  };
  const Row rows[] = {
      {"{", "not valid JSON"},
      {config(R"(, "otaa": {})"), "unknown key 'otaa'"},
      {config(R"(, "ota": {"allowed_host": ["a"]})"), "ota: unknown key 'allowed_host'"},
      {R"({"user_app": {"ca_cert": "missing.pem"}, "secure_boot": {"enabled": false}})",
       "user_app.ca_cert: cannot read"},
      {R"({"secure_boot": {"enabled": false}, "user_app": {}})", "user_app.ca_cert is missing"},
      {R"({"secure_boot": {"enabled": false}})", "user_app is missing"},
      {R"({"secure_boot": {"enabled": true, "key_digests": []}, "user_app": {"ca_cert": "ca.pem"}})",
       "key_digests is empty"},
      {R"({"secure_boot": {"key_digests": ["abc"]}, "user_app": {"ca_cert": "ca.pem"}})",
       "not 64 hex digits"},
      {R"({"secure_boot": {"key_digests": [")" + std::string(64, 'g') +
           R"("]}, "user_app": {"ca_cert": "ca.pem"}})",
       "is not hex"},
      {R"({"secure_boot": {"key_digests": [")" + kDigest + R"(",")" + kDigest + R"(",")" + kDigest +
           R"(",")" + kDigest + R"("]}, "user_app": {"ca_cert": "ca.pem"}})",
       "at most 3"},
      {config(R"(, "ota": {"allowed_ports": [0]})"), "0 is not a port"},
      {config(R"(, "ota": {"allowed_ports": [70000]})"), "70000 is not a port"},
      {config(R"(, "ota": {"max_url_length": 480})"), "max_url_length must be 1..479"},
      {config(R"(, "ota": {"max_attempts": 0})"), "max_attempts must be at least 1"},
      {config(R"(, "ota": {"stall_timeout_ms": -5})"), "stall_timeout_ms must be a non-negative integer"},
      {config(R"(, "ota": {"allow_http": "yes"})"), "ota.allow_http has the wrong type"},
      // The chip is resolved once, here: a device that does not know its chip cannot check images for it.
      {R"({"chip": "esp32c9", "secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem"}})",
       "unknown chip 'esp32c9'; known: esp32, esp32s2, esp32c3"},
      {R"({"chip": "ESP32C3", "secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem"}})",
       "unknown chip 'ESP32C3'"},
      {R"({"chip": 5, "secure_boot": {"enabled": false}, "user_app": {"ca_cert": "ca.pem"}})",
       "device config.chip has the wrong type"},
      {config(R"(, "ota": {"allowed_hosts": ["bad host!"]})"),
       "ota.allowed_hosts: 'bad host!': allowed host is"},
      {config(R"(, "ota": {"allowed_hosts": ["https://a.example/"]})"), "'https://a.example/': allowed host"},
      {config(R"(, "ota": {"allowed_hosts": ["*."]})"), "ota.allowed_hosts: '*.': allowed host is not"},
  };
  for (const Row& row : rows) {
    const std::string said = refusal(row.text);
    EXPECT_NE(said.find(row.says), std::string::npos) << row.text << "\n  said: " << said;
  }
}

}  // namespace
}  // namespace privota::host
