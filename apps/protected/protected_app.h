// ProtectedApp: the trusted half of the device. After the bootloader started it, it
//   1. confirms itself if it runs on trial (it got this far: flash, table and crypto work),
//   2. selects and verifies the user app from uotadata (trial / rollback: core/boot_select),
//   3. launches it in the sandbox and serves its system calls,
//   4. supervises it: a trial app that crashes, exits, or does not confirm in time is marked invalid and
//      the device reboots into the previous one; a valid app that crashes is restarted, up to a limit,
//   5. runs OTA jobs in the background (OtaService) and reboots once one has selected a new image,
// and returns the exit code that tells the bootloader what the device does next (device_protocol.h).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ota_service.h"
#include "privota/boot_select.h"
#include "privota/host/device_config.h"
#include "privota/host/event_log.h"
#include "syscall_server.h"
#include "trust.h"
#include "user_app_process.h"

namespace privota::protected_app {

struct Boot {
  uint32_t slot = 0;  // the ota_N this protected app was booted from
  uint32_t secure_version = 0;
  std::string version;
};

class ProtectedApp final : public SyscallHandler {
 public:
  // `position_probe`: see OtaService::Setup (may be null).
  ProtectedApp(Flash& flash, PartitionTable table, const host::DeviceConfig& config, host::EventLog& log,
               Boot boot, std::atomic<uint32_t>* position_probe = nullptr);
  ~ProtectedApp();

  // Runs the device until it halts or reboots; returns the exit code (device_protocol.h).
  int run();

  void handle(const syscall::Frame& request, syscall::Frame& response) override;

 private:
  enum class Next { kKeepRunning, kHalt, kReboot };

  void confirm_self();
  bool select_user_app();
  void start_owner_jobs();
  bool launch();
  Next supervise();
  Next on_user_exit(const host::ExitStatus& exit);
  Next fail_trial(const std::string& why);
  Next after_user_app();
  void drain(Fd& pipe, std::string& pending, const char* stream);
  void stop_user_app();

  void app_info(const syscall::Frame& request, syscall::Frame& response);
  void ota_status(const syscall::Frame& request, syscall::Frame& response);
  void mark_valid(syscall::Frame& response);
  bool on_trial() const;

  Flash& flash_;
  PartitionTable table_;
  const host::DeviceConfig& config_;
  host::EventLog& log_;
  Boot boot_;
  Trust trust_;
  AppSlots user_slots_;
  std::optional<BootDecision> user_;  // what runs
  std::vector<uint8_t> executable_;
  std::optional<UserAppProcess> process_;
  std::optional<SyscallServer> server_;
  Fd wake_;  // eventfd: a job ended
  std::optional<OtaService> ota_;
  bool confirmed_ = false;  // the running user app called ota_mark_valid this boot
  uint32_t crashes_ = 0;
  uint32_t malformed_ = 0;  // frames the last user app process sent that did not decode
  std::chrono::steady_clock::time_point launched_at_;
  std::optional<std::chrono::steady_clock::time_point> reboot_at_;
  Next requested_ = Next::kKeepRunning;  // by a system call (restart / mark_invalid_and_reboot)
  bool restart_requested_ = false;
  std::string out_pending_, err_pending_;
};

}  // namespace privota::protected_app
