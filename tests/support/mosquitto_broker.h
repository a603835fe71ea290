// A real MQTT broker for the fleet tests: Debian's mosquitto with a configuration that `privota fleet
// broker-config` wrote, on a loopback port of its own (tests/support/mosquitto-serve), stopped and reaped
// when the object dies. Throws std::runtime_error, with the broker's log, when it cannot start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "https_server.h"

namespace privota::test {

class MosquittoBroker {
 public:
  MosquittoBroker(const std::filesystem::path& config_dir, uint16_t port);

  uint16_t port() const { return port_; }
  std::string log() const;
  void stop() { process_.stop(); }

 private:
  std::filesystem::path log_;
  uint16_t port_;
  ServerProcess process_;
};

}  // namespace privota::test
