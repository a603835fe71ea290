// Supervisor: the protected app's rules for the user app it runs — trial, confirmation, what a crash, an exit
// or a hang means, restart limits, and when the device reboots or halts. Pure logic: the platform feeds it
// events (each stamped with the platform's monotonic time) and carries out the action it answers. The same
// rules run on every platform; tests drive it without processes.
//
//   user app                  event                          action
//   -----------------------   ----------------------------   ---------------------------------------------
//   none selected             booted / job ended             halt (no bootable user app) unless a job runs
//                                                            or the device stays up for its fleet
//   any, failed_boots >=      booted                         safe state: the user app is not started; an
//   boot_budget                                              owner's job still runs (and reboots into its
//                                                            image); final when no job runs
//   the same, while the       booted                         launch it once more: the new protected app may
//   protected app is on trial                                be the fix, and a start confirms it
//   on trial                  confirmed                      none: it is valid from now on
//   on trial                  crashed, exited (any code),    mark its slot INVALID and reboot: the previous
//                             launch failed, tick past the   app runs at the next boot
//                             confirmation deadline
//   any                       invalid-and-reboot asked       the same (only reboot when a job already
//                                                            selected a new image: that one goes on trial)
//   valid                     exited 0                       halt, or wait while a job runs (or stay up)
//   valid                     crashed, exited non-zero,      launch it again, up to crash_loop_limit times
//                             launch failed, restart asked   per boot; one more: reboot
//   any                       job activated                  reboot: at once when no app runs, else after
//                                                            reboot_grace_ms (the app sees REBOOTING)
//   ended (exited 0)          job ended without activating   halt
//   watchdog armed            tick past the last feed +      as a crash (the platform stops the app first):
//                             the period                     a trial ends, a valid app is restarted
//
// A restart the app asks for counts like a crash: an app that restarts itself in a loop is a crash loop.
// Every reboot caused by the user app (kMarkInvalidAndReboot, kReboot for a crash loop) carries the
// BootFailure the platform records in uotadata before rebooting (add_failed_boot); a confirmation or a new
// image resets the count (ota_data.h), and the count is handed back at the next kBooted.
#pragma once

#include <stdint.h>

#include "privota/ota_data.h"

namespace privota {

// Reboots in a row the user app may cause before the device stays in the safe state (device.json's
// user_app.boot_budget overrides it).
constexpr uint32_t kDefaultBootBudget = 5;

struct SupervisorLimits {
  uint32_t confirm_timeout_ms = 30000;  // a trial app must confirm itself within this time of starting
  uint32_t crash_loop_limit = 3;        // restarts per boot before the device reboots
  uint32_t reboot_grace_ms = 1000;      // how long an app may still run once a job selected a new image
  // Consecutive reboots caused by user-app failure before the safe state; 0: none.
  uint32_t boot_budget = kDefaultBootBudget;
  // A device in a fleet waits for the next job instead of halting when its app ended (or it has none): its
  // jobs come from outside (docs/fleet.md). In the safe state too: a fleet job may bring the fix.
  bool stay_up = false;
};

enum class SupervisorEventKind : uint8_t {
  kBooted,                 // the boot decision: `slot` and `trial`, or `no_user_app`
  kUserStarted,            // the platform launched the user app
  kLaunchFailed,           // the platform could not launch it
  kConfirmed,              // the user app confirmed itself (its mark_valid succeeded)
  kCrashed,                // killed by a signal or a CPU fault (`code`: the signal or trap cause)
  kExited,                 // ended by itself (`code`: its exit code)
  kRestartAsked,           // the user app asked to be restarted
  kInvalidAndRebootAsked,  // the user app gave up on itself
  kJobStarted,             // an OTA job began (the device does not halt while one runs)
  kJobEnded,               // the job ended without selecting an image
  kJobActivated,           // the job selected a new image: the device must reboot into it
  kWatchdogArmed,          // the user app armed its watchdog (`code`: the period in ms; 0 disarms it)
  kWatchdogFed,            // the user app fed its watchdog
  kTick,                   // time passed
};

struct SupervisorEvent {
  SupervisorEventKind kind = SupervisorEventKind::kTick;
  uint64_t now_ms = 0;
  int32_t code = 0;              // kCrashed, kExited
  uint32_t slot = 0;             // kBooted
  bool trial = false;            // kBooted
  bool no_user_app = false;      // kBooted
  uint32_t failed_boots = 0;     // kBooted: consecutive reboots caused by user-app failure (uotadata)
  bool protected_trial = false;  // kBooted: the protected app itself runs on trial (a new image)
};

enum class SupervisorActionKind : uint8_t {
  kNone,                  // keep running
  kLaunch,                // start the user app from `slot` (its first start, or again after it ended;
                          // after a missed watchdog feed the platform stops the hung app first)
  kRestart,               // stop the running user app, then start it again from `slot`
  kMarkInvalidAndReboot,  // stop the user app, mark `slot` INVALID, reboot
  kReboot,                // stop the user app and reboot
  kHalt,                  // nothing is left to do
  kSafeState,             // the boot budget is used up: do not start the user app; final unless a job runs
};

// Why an action was chosen, for the log and the events of every platform.
enum class SupervisorReason : uint8_t {
  kNone,
  kFirstStart,
  kTrialConfirmed,
  kTrialCrashed,
  kTrialExited,
  kTrialLaunchFailed,
  kTrialTimeout,
  kAppGaveUp,
  kCrashRestart,  // `count` of `limit` restarts
  kRestartAsked,  // `count` of `limit` restarts
  kCrashLoop,     // `count` restarts and one more failure
  kAppEnded,
  kNoUserApp,
  kJobActivated,
  kJobActivatedNoApp,
  kTrialWatchdog,  // the trial app armed its watchdog and then missed a feed
  kWatchdog,       // a valid app missed a feed: restarted like a crash (`count` of `limit`)
  kBootBudget,     // `count` consecutive failed boots reached the boot budget `limit`
};

const char* supervisor_reason_name(SupervisorReason reason);

struct SupervisorAction {
  SupervisorActionKind kind = SupervisorActionKind::kNone;
  SupervisorReason reason = SupervisorReason::kNone;
  uint32_t slot = 0;
  uint32_t count = 0;  // restarts so far this boot (kCrashRestart, kRestartAsked, kCrashLoop)
  uint32_t limit = 0;  // the crash-loop limit (the boot budget for kBootBudget)
  // A reboot caused by the user app: what the platform records before rebooting (kNone for other reboots).
  BootFailure failure = BootFailure::kNone;
};

class Supervisor {
 public:
  explicit Supervisor(const SupervisorLimits& limits) : limits_(limits) {}

  SupervisorAction on(const SupervisorEvent& event);

  bool on_trial() const { return trial_ && !confirmed_; }
  bool safe_state() const { return safe_state_; }
  // A reboot, halt or safe state with no job left: nothing more happens this boot.
  bool finished() const { return phase_ == Phase::kDone; }
  uint32_t restarts() const { return restarts_; }
  // When the unconfirmed trial app runs out of time (valid only while on_trial() and app_running()).
  uint64_t confirm_deadline_ms() const { return started_ms_ + limits_.confirm_timeout_ms; }

 private:
  enum class Phase : uint8_t { kNotStarted, kRunning, kEnded, kDone };

  SupervisorAction booted(const SupervisorEvent& event);
  SupervisorAction app_failed(SupervisorReason trial_reason, bool restart_asked);
  SupervisorAction app_ended();
  SupervisorAction job_activated(uint64_t now_ms);
  SupervisorAction tick(uint64_t now_ms);
  SupervisorAction act(SupervisorActionKind kind, SupervisorReason reason);

  SupervisorLimits limits_;
  Phase phase_ = Phase::kNotStarted;
  uint32_t slot_ = 0;
  bool have_app_ = false;
  bool trial_ = false;
  bool confirmed_ = false;
  bool job_running_ = false;
  bool job_activated_ = false;
  bool safe_state_ = false;
  uint32_t restarts_ = 0;
  uint64_t started_ms_ = 0;
  uint64_t reboot_at_ms_ = 0;
  uint32_t watchdog_ms_ = 0;  // 0: not armed
  uint64_t fed_ms_ = 0;
};

}  // namespace privota
