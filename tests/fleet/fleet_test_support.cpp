#include "fleet_test_support.h"

#include <gtest/gtest.h>

#include "https_server.h"

namespace privota::test {

std::string text_of(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return {bytes.begin(), bytes.end()};
}

CommandResult privota_cli(const std::string& args) {
  CommandResult result = run_command(std::string(PRIVOTA_CLI) + " " + args + " 2>&1");
  EXPECT_EQ(result.exit_code, 0) << "privota " << args << "\n" << result.out;
  return result;
}

TestFleet::TestFleet(const std::vector<std::string>& device_ids) : port_(free_loopback_port()) {
  const std::string fleet = "--fleet " + dir_.path().string();
  privota_cli("fleet ca new " + fleet + " --broker-port " + std::to_string(port_));
  privota_cli("fleet controller new " + fleet);
  for (const std::string& id : device_ids)
    privota_cli("fleet device new --id " + id + " " + fleet);
  privota_cli("fleet broker-config " + fleet + " -o " + (dir_ / "broker").string());
  broker_ = std::make_unique<MosquittoBroker>(dir_ / "broker", port_);
}

void TestFleet::restart_broker(const std::function<void()>& while_down) {
  broker_.reset();
  while_down();
  broker_ = std::make_unique<MosquittoBroker>(dir_ / "broker", port_);
}

host::MqttEndpoint TestFleet::device_endpoint(const std::string& id) const {
  const auto device = dir_ / "devices" / id;
  return {"127.0.0.1", port_, text_of(device / "ca_cert.pem"), text_of(device / "cert.pem"),
          text_of(device / "key.pem")};
}

host::MqttEndpoint TestFleet::controller_endpoint() const {
  const auto controller = dir_ / "controller";
  return {"127.0.0.1", port_, text_of(dir_ / "ca" / "cert.pem"), text_of(controller / "cert.pem"),
          text_of(controller / "key.pem")};
}

std::unique_ptr<host::MqttClient> TestFleet::connect_device(const std::string& id) const {
  auto client = std::make_unique<host::MqttClient>(id, device_endpoint(id));
  const std::string error = client->connect(5s);
  EXPECT_EQ(error, "") << id;
  return client;
}

std::unique_ptr<host::MqttClient> TestFleet::connect_controller() const {
  // A client id of its own: the broker drops an older connection that has the same one.
  static int count = 0;
  auto client =
      std::make_unique<host::MqttClient>("test-controller-" + std::to_string(++count), controller_endpoint());
  const std::string error = client->connect(5s);
  EXPECT_EQ(error, "") << "controller";
  return client;
}

}  // namespace privota::test
