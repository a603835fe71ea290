// The `fleet` section of device.json (docs/fleet.md): where the broker is, who the device is, and whether
// user-level jobs need the user app's consent. `privota fleet device new` writes it.
//   "fleet": {"broker": "127.0.0.1:8883", "device_id": "dev-001", "ca_cert": "fleet/ca_cert.pem",
//             "cert": "fleet/cert.pem", "key": "fleet/key.pem", "user_consent": false, "offer_again_s": 300,
//             "keepalive_s": 30}
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "privota/host/mqtt_client.h"

namespace privota::host {

struct FleetConfig {
  std::string device_id;
  MqttEndpoint broker;  // paths resolved against device.json's directory
  bool user_consent = false;
  uint32_t offer_again_s = 300;
  uint16_t keepalive_s = 30;

  // Either form: PEM files named relative to `base` ("ca_cert", "cert", "key") or inline ("ca_cert_pem",
  // "cert_pem", "key_pem"). Throws ConfigError (device_config.h) naming the field that is wrong; unknown keys
  // are errors.
  static FleetConfig parse(const nlohmann::json& section, const std::filesystem::path& base);
  // The resolved form, PEMs inline (what the bootloader hands the protected app).
  nlohmann::json to_json() const;
};

}  // namespace privota::host
