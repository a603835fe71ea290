// ProtectedApp: the host device's protected app — a thin platform shell around the core's behaviour.
// The rules live in the core (src/core/device): the Supervisor (trial, confirm, crash, hang, restarts,
// reboot, halt), the SyscallService (every system call and its answer) and the OtaService (one job at a
// time, who owns it, resume, reboot after activation). This class only does what Linux must:
//   - at boot: selects and verifies the user app (core boot decision), resumes an interrupted job and starts
//     the owner's update; confirms itself (if on trial) once it started a user app, or at once on a device
//     that has no user app installed yet;
//   - launches the user app as a sandboxed process, polls its channel, output pipes and the job's eventfd,
//     and turns what it sees into the core's events (started, exited, crashed, a frame, a job's end, time);
//   - carries out the supervisor's actions (launch, restart, mark invalid, reboot, halt) and logs them;
//   - in a fleet (device.json's `fleet`), hosts the fleet agent (FleetLink) and stays up for its jobs;
// and returns the exit code that tells the bootloader what the device does next (device_protocol.h).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "fleet_link.h"
#include "job_thread.h"
#include "privota/boot_select.h"
#include "privota/host/device_config.h"
#include "privota/host/event_log.h"
#include "privota/log_budget.h"
#include "privota/ota_service.h"
#include "privota/supervisor.h"
#include "privota/syscall_service.h"
#include "syscall_channel.h"
#include "trust.h"
#include "user_app_process.h"

namespace privota::protected_app {

struct Boot {
  uint32_t slot = 0;  // the ota_N this protected app was booted from
  uint32_t secure_version = 0;
  std::string version;
};

class ProtectedApp final : public SyscallPlatform {
 public:
  // `position_probe`: see JobThread::Setup (may be null).
  ProtectedApp(Flash& flash, PartitionTable table, const host::DeviceConfig& config, host::EventLog& log,
               Boot boot, std::atomic<uint32_t>* position_probe = nullptr);
  ~ProtectedApp();

  // Runs the device until it halts or reboots; returns the exit code (device_protocol.h).
  int run();

  Result<AppDescriptor> verify_user_slot(uint32_t slot) override;
  void user_log(uint32_t level, const char* text) override;
  void user_log_dropped(const char* source, uint32_t lines, uint64_t bytes) override;

 private:
  enum class Step { kContinue, kHalt, kHaltNoUserApp, kReboot };

  void confirm_self();
  bool on_trial();
  bool user_app_installed();
  bool select_user_app();
  void start_jobs();
  std::optional<AppDescriptor> own_descriptor();
  void open_fleet();
  void job_started(const Result<uint32_t>& job, const char* what);
  Step carry_out(SupervisorAction action);
  SupervisorAction launch();
  Step mark_invalid_and_reboot(const SupervisorAction& action);
  void record_failed_boot(const SupervisorAction& action);
  BootFailure last_failure();
  Step wait_and_react();
  Step serve_channel();
  Step on_user_ended(const host::ExitStatus& exit);
  Step on_channel_closed();
  void log_notice(const SyscallOutcome& outcome, ConstByteSpan message, const uint8_t* answer);
  void drain(Fd& pipe, bool& open, std::string& pending, LogBudget& budget, const char* stream);
  void emit_output(const std::string& line, LogBudget& budget, const char* stream);
  void report_dropped(LogBudget& budget, const char* source);
  void stop_user_app();
  uint64_t now_ms() const;
  SupervisorAction tell(SupervisorEventKind kind, int32_t code = 0);

  Flash& flash_;
  PartitionTable table_;
  const host::DeviceConfig& config_;
  host::EventLog& log_;
  Boot boot_;
  Trust trust_;
  std::vector<const char*> hosts_;  // into config_: what url_policy_ points at
  UrlPolicy url_policy_;
  Fd wake_;  // eventfd: a job ended
  JobThread jobs_;
  OtaService ota_;
  Supervisor supervisor_;
  AppSlots user_slots_;
  std::optional<BootDecision> user_;  // what runs
  std::optional<SyscallService> syscalls_;
  AppSlots own_slots_;
  FleetOffer fleet_offer_;
  std::unique_ptr<FleetLink> fleet_;
  std::vector<uint8_t> executable_;
  std::optional<UserAppProcess> process_;
  std::optional<SyscallChannel> channel_;
  bool out_open_ = false, err_open_ = false;
  std::string out_pending_, err_pending_;
  LogBudget out_budget_{LogBudgetLimits{}}, err_budget_{LogBudgetLimits{}};
  std::string last_end_;         // how the user app last ended, for the trial_failed line
  bool self_confirmed_ = false;  // confirm_self() ran this boot
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace privota::protected_app
