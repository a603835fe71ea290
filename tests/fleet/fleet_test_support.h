// What the fleet tests share: a fleet made with the real `privota fleet` commands in a temp dir, its broker
// running, and MQTT clients with the identities in it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mosquitto_broker.h"
#include "privota/host/mqtt_client.h"
#include "test_support.h"

namespace privota::test {

using namespace std::chrono_literals;

std::string text_of(const std::filesystem::path& path);

// Runs the privota CLI with `args`; fails the test (ADD_FAILURE) if it does not exit 0.
CommandResult privota_cli(const std::string& args);

class TestFleet {
 public:
  // A fleet CA, the controller, the given devices and the broker's configuration; the broker is started.
  explicit TestFleet(const std::vector<std::string>& device_ids);

  const std::filesystem::path& dir() const { return dir_.path(); }
  uint16_t port() const { return port_; }
  MosquittoBroker& broker() { return *broker_; }
  // Stops the broker, runs `while_down`, and starts it again on the same port with the same state.
  void restart_broker(const std::function<void()>& while_down);

  host::MqttEndpoint device_endpoint(const std::string& id) const;
  host::MqttEndpoint controller_endpoint() const;
  // A connected client (ASSERTs inside fail the calling test).
  std::unique_ptr<host::MqttClient> connect_device(const std::string& id) const;
  std::unique_ptr<host::MqttClient> connect_controller() const;

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<MosquittoBroker> broker_;
};

}  // namespace privota::test
