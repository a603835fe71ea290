// The fleet broker as `privota fleet broker-config` configures it, proved against a real mosquitto: who may
// connect, subscribe and publish what (docs/fleet.md, ACL).
#include <gtest/gtest.h>

#include <algorithm>

#include "fleet_test_support.h"

namespace privota::test {
namespace {

using host::MqttClient;

constexpr auto kQuiet = 400ms;  // how long "nothing arrives" is watched: the broker forwards in microseconds

class FleetBrokerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fleet_ = new TestFleet({"dev-a", "dev-b"}); }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  static TestFleet* fleet_;
};
TestFleet* FleetBrokerTest::fleet_ = nullptr;

TEST_F(FleetBrokerTest, ControllerPublishesAJobTheDeviceReceives) {
  auto device = fleet_->connect_device("dev-a");
  auto controller = fleet_->connect_controller();
  EXPECT_EQ(device->subscribe("privota/dev-a/job", 1, 2s), 1);
  ASSERT_TRUE(controller->publish("privota/dev-a/job", R"({"v":1})", 1, false, 2s));
  const auto message = device->next_message(2s);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->topic, "privota/dev-a/job");
  EXPECT_EQ(message->payload, R"({"v":1})");
}

TEST_F(FleetBrokerTest, ClientWithoutCertificateIsRefused) {
  host::MqttEndpoint anonymous = fleet_->device_endpoint("dev-a");
  anonymous.cert_pem.clear();
  anonymous.key_pem.clear();
  MqttClient client("dev-a", anonymous);
  EXPECT_NE(client.connect(3s), "");
  EXPECT_FALSE(client.connected());
}

TEST_F(FleetBrokerTest, ClientWithCertificateFromAnotherFleetIsRefused) {
  // The same device id, the same broker address, but a CA the broker does not know.
  TempDir other;
  privota_cli("fleet ca new --fleet " + other.path().string() + " --broker-port " +
              std::to_string(fleet_->port()));
  privota_cli("fleet device new --id dev-a --fleet " + other.path().string());
  host::MqttEndpoint stranger = fleet_->device_endpoint("dev-a");
  stranger.cert_pem = text_of(other / "devices/dev-a/cert.pem");
  stranger.key_pem = text_of(other / "devices/dev-a/key.pem");
  MqttClient client("dev-a", stranger);
  EXPECT_NE(client.connect(3s), "");
  EXPECT_FALSE(client.connected());
}

// mosquitto 2.0 checks `read` per message, retained ones included, and may still grant the SUBACK: what
// matters is that nothing arrives.
TEST_F(FleetBrokerTest, DeviceCannotReadAnotherDevicesJobsOrStatus) {
  auto controller = fleet_->connect_controller();
  ASSERT_TRUE(controller->publish("privota/dev-b/job", "retained for dev-b", 1, true, 2s));
  auto victim = fleet_->connect_device("dev-b");
  ASSERT_TRUE(victim->publish("privota/dev-b/status", "dev-b status", 1, true, 2s));
  auto intruder = fleet_->connect_device("dev-a");
  for (const char* topic : {"privota/dev-b/job", "privota/+/job", "privota/#", "#", "privota/dev-b/status"}) {
    EXPECT_TRUE(intruder->subscribe(topic, 1, 2s).has_value()) << topic;
  }
  ASSERT_TRUE(controller->publish("privota/dev-b/job", "live for dev-b", 1, false, 2s));
  const auto leaked = intruder->next_message(kQuiet);
  EXPECT_FALSE(leaked.has_value()) << leaked->topic << ": " << leaked->payload;
  // The same subscriptions do deliver what is dev-a's own.
  ASSERT_TRUE(controller->publish("privota/dev-a/job", "for dev-a", 1, false, 2s));
  const auto own = intruder->next_message(2s);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->topic, "privota/dev-a/job");
  ASSERT_TRUE(controller->publish("privota/dev-b/job", "", 1, true, 2s));  // clear what this test retained
  ASSERT_TRUE(victim->publish("privota/dev-b/status", "", 1, true, 2s));
}

TEST_F(FleetBrokerTest, DevicePublishesOnlyItsOwnStatus) {
  auto controller = fleet_->connect_controller();
  ASSERT_EQ(controller->subscribe("privota/+/status", 1, 2s), 1);
  auto device = fleet_->connect_device("dev-a");
  ASSERT_TRUE(device->publish("privota/dev-b/status", "forged", 1, false, 2s));
  ASSERT_TRUE(device->publish("privota/dev-a/status", "own", 1, false, 2s));
  // Whatever else is retained there, "own" arrives and "forged" never does.
  std::vector<std::string> received;
  for (auto message = controller->next_message(2s); message; message = controller->next_message(kQuiet)) {
    received.push_back(message->topic + " " + message->payload);
  }
  EXPECT_NE(std::find(received.begin(), received.end(), "privota/dev-a/status own"), received.end());
  for (const std::string& line : received)
    EXPECT_EQ(line.find("forged"), std::string::npos) << line;
}

TEST_F(FleetBrokerTest, DeviceCannotPublishJobs) {
  auto victim = fleet_->connect_device("dev-b");
  ASSERT_EQ(victim->subscribe("privota/dev-b/job", 1, 2s), 1);
  auto device = fleet_->connect_device("dev-a");
  ASSERT_TRUE(device->publish("privota/dev-b/job", "forged job", 1, false, 2s));
  ASSERT_TRUE(device->publish("privota/dev-a/job", "self-made job", 1, false, 2s));
  EXPECT_FALSE(victim->next_message(kQuiet).has_value());
}

TEST(FleetCli, RefusesABadDeviceIdAndAMissingFleet) {
  TempDir dir;
  const std::string fleet = " --fleet " + dir.path().string();
  const CommandResult missing =
      run_command(std::string(PRIVOTA_CLI) + " fleet device new --id d1" + fleet + " 2>&1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("not a fleet directory"), std::string::npos) << missing.out;
  privota_cli("fleet ca new" + fleet);
  for (const char* bad : {"'a/b'", "'+'", "privota-controller", "''", "'.hidden'"}) {
    const CommandResult result =
        run_command(std::string(PRIVOTA_CLI) + " fleet device new --id " + bad + fleet + " 2>&1");
    EXPECT_EQ(result.exit_code, 1) << bad;
    EXPECT_NE(result.out.find("is not a device id"), std::string::npos) << result.out;
  }
}

TEST(FleetCli, DeviceSectionNamesItsIdentity) {
  TempDir dir;
  const std::string fleet = " --fleet " + dir.path().string();
  privota_cli("fleet ca new --broker-port 9999" + fleet);
  const CommandResult made = privota_cli("fleet device new --id sensor-7" + fleet);
  EXPECT_NE(made.out.find(R"("device_id": "sensor-7")"), std::string::npos) << made.out;
  EXPECT_NE(made.out.find(R"("broker": "127.0.0.1:9999")"), std::string::npos) << made.out;
  const CommandResult subject =
      run_command("openssl x509 -noout -subject -in " + (dir / "devices/sensor-7/cert.pem").string());
  EXPECT_NE(subject.out.find("CN = sensor-7"), std::string::npos) << subject.out;
  const CommandResult chain = run_command("openssl verify -CAfile " + (dir / "ca/cert.pem").string() + " " +
                                          (dir / "devices/sensor-7/cert.pem").string() + " 2>&1");
  EXPECT_EQ(chain.exit_code, 0) << chain.out;
}

}  // namespace
}  // namespace privota::test
