// The host device's bootloader (ROM + 2nd stage; part of the sim, not updatable): reads the partition table,
// selects the protected app from otadata (trial / rollback, core/boot_select), verifies it (Secure Boot v2
// when the device's eFuse says so), copies its payload into a sealed memfd and fexecve()s it with exactly
// the fds of privota/host/device_protocol.h.
#pragma once

#include <filesystem>
#include <string>

#include "log_view.h"
#include "privota/app_slots.h"
#include "privota/host/device_config.h"
#include "privota/host/power_supply.h"
#include "privota/host/process_launcher.h"
#include "privota/signed_image.h"

namespace privota::sim {

struct BootResult {
  enum class Kind { kStarted, kBadFlash, kNoBootableApp, kPowerCut, kError };
  Kind kind = Kind::kError;
  host::Child protected_app;  // kStarted
  int log_fd = -1;            // kStarted: the read end of the protected app's event log (owned by caller)
};

class Bootloader {
 public:
  Bootloader(std::filesystem::path flash, host::PowerSupply& power, LogView& log)
      : flash_(std::move(flash)), power_(power), log_(log) {}

  // Powers the chain on once. `config` is what this boot's protected app gets.
  BootResult boot(const host::DeviceConfig& config);

 private:
  void say(const std::string& level, const std::string& event, const std::string& message,
           nlohmann::json fields = nlohmann::json::object());
  void say_why_nothing_boots(AppSlots& slots, const TrustPolicy& policy, const Status& status);

  std::filesystem::path flash_;
  host::PowerSupply& power_;
  LogView& log_;
};

}  // namespace privota::sim
