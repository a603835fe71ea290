// DeviceConfig: what a simulated device is and trusts — the parts of a real device that live in eFuse
// (chip, Secure Boot v2 key digests) and in the protected app's configuration (the user-app CA, the OTA URL
// policy, the TLS CA bundle, supervision times).
//
// The file a person writes (device.json) names PEM files by path, relative to the file:
//   {
//     "chip": "esp32c3",
//     "secure_boot": {"enabled": true, "key_digests": ["<64 hex digits>", ...]},
//     "user_app": {"ca_cert": "ca/ca_cert.pem", "confirm_timeout_ms": 10000, "crash_loop_limit": 3,
//                  "boot_budget": 5, "memory_mib": 256, "cpu_seconds": 60,
//                  "sandbox": {"allow_degraded": false}},
//     "ota": {"tls_ca": "tls/ca.pem", "allowed_hosts": ["127.0.0.1"], "allowed_ports": [8443],
//             "allow_http": false, "max_url_length": 256, "connect_timeout_ms": 5000,
//             "stall_timeout_ms": 10000, "max_attempts": 4, "first_backoff_ms": 250, "max_redirects": 3,
//             "low_speed_bytes": 4096, "low_speed_window_ms": 30000, "job_deadline_ms": 1800000},
//     "fleet": {...}   (optional; privota/host/fleet_config.h)
//   }
// Unknown keys are errors (a typo must not silently weaken a policy). The bootloader hands the protected app
// the resolved form (to_json(): the PEM texts inline as "ca_cert_pem"/"tls_ca_pem"), so the protected app
// needs no file system access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "privota/chip.h"
#include "privota/host/fleet_config.h"
#include "privota/signed_image.h"
#include "privota/supervisor.h"

namespace privota::host {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SecureBootConfig {
  bool enabled = true;
  std::vector<KeyDigest> key_digests;  // up to 3, as eFuse has 3 key digest slots
};

struct UserAppConfig {
  std::string ca_pem;                   // the user-app CA every user app's certificate must chain to
  uint32_t confirm_timeout_ms = 10000;  // a trial user app must call ota_mark_valid() within this
  uint32_t crash_loop_limit = 3;        // restarts of a crashing valid app in one boot before a reboot
  // Reboots in a row caused by the user app (uotadata's failed-boot count) before the device stays in the
  // safe state instead (SupervisorLimits::boot_budget); 0: never.
  uint32_t boot_budget = kDefaultBootBudget;
  uint32_t memory_mib = 256;  // the sandbox's address-space limit
  uint32_t cpu_seconds = 60;
  // Start the user app even when the kernel lacks a protection the sandbox relies on (an old landlock ABI,
  // see host::sandbox_missing_protections); false: such a kernel runs no user app at all.
  bool sandbox_allow_degraded = false;
  std::vector<std::string> args;  // argv[1..] of the user app (the sim's --user-arg)
};

struct OtaConfig {
  std::string tls_ca_pem;  // CA bundle for HTTPS servers
  std::vector<std::string> allowed_hosts;
  std::vector<uint16_t> allowed_ports;
  bool allow_http = false;
  uint32_t max_url_length = 256;
  uint32_t connect_timeout_ms = 5000;
  uint32_t stall_timeout_ms = 10000;
  uint32_t max_attempts = 4;
  uint32_t first_backoff_ms = 250;
  uint32_t max_redirects = 3;
  // Fewer than low_speed_bytes in low_speed_window_ms fails the transfer (too_slow); the whole job within
  // job_deadline_ms (job_deadline). 0 turns each off. See OtaJobConfig.
  uint32_t low_speed_bytes = 4096;
  uint32_t low_speed_window_ms = 30000;
  uint32_t job_deadline_ms = 30 * 60 * 1000;
};

struct DeviceConfig {
  ChipId chip = ChipId::kEsp32C3;  // resolved from its name when parsed: an unknown one is a ConfigError
  SecureBootConfig secure_boot;
  UserAppConfig user_app;
  OtaConfig ota;
  // The fleet agent's broker and identity (docs/fleet.md); none: the device is not in a fleet.
  std::optional<FleetConfig> fleet;
  // The device owner's request for this power-on: update the protected app from this URL (the sim's
  // --protected-update). Empty: none.
  std::string protected_update_url;

  // Reads device.json; paths in it are relative to its directory. Throws ConfigError saying what is wrong.
  static DeviceConfig load(const std::filesystem::path& path);
  // Parses either form (paths resolved against `base`, or inline PEMs). Throws ConfigError.
  static DeviceConfig parse(const std::string& json_text, const std::filesystem::path& base);
  // The resolved form, PEMs inline.
  std::string to_json() const;
};

}  // namespace privota::host
