// DeviceRunner: privota-sim's power-on loop. Each boot runs the chain bootloader -> protected app -> user
// app until the protected app says what comes next (device_protocol.h); a reboot starts the chain again;
// only the flash file persists between boots.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "log_view.h"
#include "privota/host/device_config.h"

namespace privota::sim {

// privota-sim's exit codes (its --help, docs/device.md).
enum class SimExit : int {
  kHalted = 0,         // the device ran until nothing was left to do
  kUsage = 1,          // the configuration or flash file cannot be used (one line says why)
  kNoBootableApp = 2,  // no protected app (or no user app) verifies
  kPowerCut = 3,       // --power-cut-at hit; run again to power the device back on
  kMaxBoots = 4,       // --max-boots reached (e.g. a reboot loop)
  // The device halted normally, but what the command line asked for did not happen (a warning says why):
  kUpdateNotDone = 5,  // --protected-update was refused, failed, or the new protected app did not confirm
  kNoPowerCut = 6,     // --power-cut-at N lies beyond the run's last flash write: nothing was cut
  kCommandLine = 64,   // the command line is wrong (sysexits' EX_USAGE, as privota's usage errors)
};

// "halted", "usage", "no_bootable_app", ...: the power_off event's result.
const char* sim_exit_name(SimExit exit);

struct RunOptions {
  std::filesystem::path flash;
  host::DeviceConfig config;
  uint64_t power_cut_at = 0;  // 0: never
  uint32_t max_boots = 10;
  LogFormat log = LogFormat::kText;
  std::filesystem::path events;  // also every event as JSON lines here (empty: no)
  std::vector<std::string> user_args;
  std::string protected_update_url;
};

SimExit run_device(const RunOptions& options);

}  // namespace privota::sim
