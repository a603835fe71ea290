// Issue 16, item 6: `privota config new` refuses what the device would refuse, with the device's reason, and
// its --help names every device.json setting the device's parser knows.
#include <regex>
#include <set>

#include "cli_fixture.h"
#include "privota/host/device_config.h"

namespace privota {
namespace {

class CliConfig : public test::CliFixture {
 protected:
  void SetUp() override {
    expect_ok("key gen --type rsa3072 -o " + path("owner.pem"));
    expect_ok("ca new -o " + path("ca"));
    expect_ok("ca issue --ca " + path("ca") + " --key " + path("owner.pem") + " -o " + path("leaf.pem"));
  }
  std::string base() const {
    return "config new --key " + path("owner.pem") + " -o " + path("device.json") + " ";
  }
};

TEST_F(CliConfig, RefusesWhatTheDeviceRefuses) {
  const std::string ca = "--user-ca " + path("ca") + " ";
  expect_refused(base() + ca + "--chip esp99", "unknown chip 'esp99'; known: esp32,");
  expect_refused(base() + "--user-ca " + path("owner.pem"),
                 "this is a private key, not the CA certificate; give the CA certificate");
  expect_refused(base() + "--user-ca " + path("leaf.pem"),
                 "CA certificate is not a CA (basicConstraints CA:FALSE)");
  expect_refused(base() + ca + "--allow-host 'bad host!'",
                 "ota.allowed_hosts: 'bad host!': allowed host is not");
  expect_refused(base() + ca + "--allow-host https://updates.example.com/", "'https://updates.example.com/'");
  expect_refused(base() + ca + "--allow-host '*.'", "ota.allowed_hosts: '*.'");
  expect_refused(base() + ca + "--memory-mib 8", "user_app.memory_mib below 16");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "device.json"));
  // Every setting given: the device loads exactly that.
  expect_ok(base() + ca +
            "--allow-host '*.example.com' --allow-host '[::1]' --memory-mib 64 --cpu-seconds 5 --user-arg a "
            "--user-arg b --first-backoff-ms 100 --max-redirects 1 --protected-update-url "
            "https://updates.example.com/p.bin --chip esp32c6");
  const host::DeviceConfig c = host::DeviceConfig::load(dir_ / "device.json");
  EXPECT_EQ(c.chip, ChipId::kEsp32C6);
  EXPECT_EQ(c.user_app.memory_mib, 64u);
  EXPECT_EQ(c.user_app.cpu_seconds, 5u);
  EXPECT_EQ(c.user_app.args, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.ota.first_backoff_ms, 100u);
  EXPECT_EQ(c.ota.max_redirects, 1u);
  EXPECT_EQ(c.protected_update_url, "https://updates.example.com/p.bin");
}

// Every key of the device's resolved form (DeviceConfig::to_json) is named in `config new --help`, so no
// setting is out of reach of the tool.
TEST_F(CliConfig, HelpNamesEveryDeviceSetting) {
  const test::CommandResult help = run("config new --help");
  ASSERT_EQ(help.exit_code, 0);
  const nlohmann::json resolved = nlohmann::json::parse(host::DeviceConfig().to_json());
  std::set<std::string> settings;
  for (const auto& [key, value] : resolved.items()) {
    if (!value.is_object()) {
      settings.insert(key);
      continue;
    }
    for (const auto& [inner, ignored] : value.items()) {
      // The resolved form carries PEMs inline; device.json names the files.
      settings.insert(key + "." + std::regex_replace(inner, std::regex("_pem$"), ""));
    }
  }
  EXPECT_EQ(settings.size(), 25u);
  for (std::string setting : settings) {
    if (setting == "secure_boot.enabled") setting = "secure_boot.enabled = false";
    EXPECT_NE(help.out.find(setting), std::string::npos) << setting << " is not in --help";
  }
}

// Issue 16, item 8: the CLI never prints the credentials of a URL.
TEST_F(CliConfig, NeverPrintsUrlCredentials) {
  const std::string ca = "--user-ca " + path("ca") + " ";
  test::CommandResult r =
      run(base() + ca + "--protected-update-url https://user:secret@updates.example.com/p.bin");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("protected update from https://***@updates.example.com/p.bin"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;
  expect_refused(base() + ca + "--force --allow-host user:secret@updates.example.com",
                 "ota.allowed_hosts: '***@updates.example.com'");
  EXPECT_EQ(last_.find("secret"), std::string::npos) << last_;
}

}  // namespace
}  // namespace privota
