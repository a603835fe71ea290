// A fleet directory: what `privota fleet` makes and the controller reads (docs/fleet.md).
//   DIR/fleet.json              {"broker": {"host": "127.0.0.1", "port": 8883}}
//   DIR/ca/{key,cert}.pem       the fleet CA
//   DIR/devices/ID/{key,cert}.pem, DIR/devices/ID/fleet.json   a device's identity and its device.json
//   section DIR/controller/{key,cert}.pem, DIR/controller/fleet.db     the controller's identity and its
//   SQLite state
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace privota::tools {

constexpr uint16_t kDefaultBrokerPort = 8883;

class FleetDirectory {
 public:
  explicit FleetDirectory(std::filesystem::path root) : root_(std::move(root)) {}

  // Writes DIR/fleet.json; the broker listens on 127.0.0.1 only.
  void create(uint16_t broker_port, bool overwrite) const;
  // Reads the broker port from DIR/fleet.json; throws ToolError naming what is missing.
  uint16_t broker_port() const;

  std::filesystem::path root() const { return root_; }
  std::filesystem::path ca() const { return root_ / "ca"; }
  std::filesystem::path device(const std::string& id) const { return root_ / "devices" / id; }
  std::filesystem::path devices() const { return root_ / "devices"; }
  std::filesystem::path controller() const { return root_ / "controller"; }
  std::filesystem::path database() const { return root_ / "controller" / "fleet.db"; }

 private:
  std::filesystem::path root_;
};

// Throws ToolError unless `id` is a device id: 1..64 of A-Z a-z 0-9 . _ -, not starting with '.' or
// "privota-".
void check_device_id(const std::string& id);

}  // namespace privota::tools
