#include "privota/supervisor.h"

namespace privota {

const char* supervisor_reason_name(SupervisorReason reason) {
  switch (reason) {
    case SupervisorReason::kNone:
      return "none";
    case SupervisorReason::kFirstStart:
      return "first_start";
    case SupervisorReason::kTrialConfirmed:
      return "trial_confirmed";
    case SupervisorReason::kTrialCrashed:
      return "trial_crashed";
    case SupervisorReason::kTrialExited:
      return "trial_exited";
    case SupervisorReason::kTrialLaunchFailed:
      return "trial_launch_failed";
    case SupervisorReason::kTrialTimeout:
      return "trial_timeout";
    case SupervisorReason::kAppGaveUp:
      return "app_gave_up";
    case SupervisorReason::kCrashRestart:
      return "crash_restart";
    case SupervisorReason::kRestartAsked:
      return "restart_asked";
    case SupervisorReason::kCrashLoop:
      return "crash_loop";
    case SupervisorReason::kAppEnded:
      return "app_ended";
    case SupervisorReason::kNoUserApp:
      return "no_user_app";
    case SupervisorReason::kJobActivated:
      return "job_activated";
    case SupervisorReason::kJobActivatedNoApp:
      return "job_activated_no_app";
    case SupervisorReason::kTrialWatchdog:
      return "trial_watchdog";
    case SupervisorReason::kWatchdog:
      return "watchdog";
    case SupervisorReason::kBootBudget:
      return "boot_budget";
  }
  return "unknown";
}

SupervisorAction Supervisor::on(const SupervisorEvent& event) {
  // A reboot or halt is final for this boot: whatever still arrives changes nothing.
  if (phase_ == Phase::kDone) return {};
  switch (event.kind) {
    case SupervisorEventKind::kBooted:
      return booted(event);
    case SupervisorEventKind::kUserStarted:
      phase_ = Phase::kRunning;
      started_ms_ = event.now_ms;
      watchdog_ms_ = 0;  // a new process arms its own
      return {};
    case SupervisorEventKind::kLaunchFailed:
      phase_ = Phase::kEnded;
      return app_failed(SupervisorReason::kTrialLaunchFailed, false);
    case SupervisorEventKind::kConfirmed:
      confirmed_ = true;
      return {};
    case SupervisorEventKind::kCrashed:
      phase_ = Phase::kEnded;
      return app_failed(SupervisorReason::kTrialCrashed, false);
    case SupervisorEventKind::kExited:
      phase_ = Phase::kEnded;
      if (event.code != 0) return app_failed(SupervisorReason::kTrialExited, false);
      if (on_trial()) return act(SupervisorActionKind::kMarkInvalidAndReboot, SupervisorReason::kTrialExited);
      return app_ended();
    case SupervisorEventKind::kRestartAsked:
      return app_failed(SupervisorReason::kNone, true);
    case SupervisorEventKind::kInvalidAndRebootAsked:
      // With a new image already selected, the reboot alone leaves this app (the new one boots on trial);
      // marking this slot invalid would instead hand the new image VALID without a trial.
      if (job_activated_) return act(SupervisorActionKind::kReboot, SupervisorReason::kJobActivated);
      return act(SupervisorActionKind::kMarkInvalidAndReboot, SupervisorReason::kAppGaveUp);
    case SupervisorEventKind::kJobStarted:
      job_running_ = true;
      return {};
    case SupervisorEventKind::kJobEnded:
      job_running_ = false;
      return phase_ == Phase::kRunning ? SupervisorAction{} : app_ended();
    case SupervisorEventKind::kJobActivated:
      return job_activated(event.now_ms);
    case SupervisorEventKind::kWatchdogArmed:
      watchdog_ms_ = static_cast<uint32_t>(event.code);
      fed_ms_ = event.now_ms;
      return {};
    case SupervisorEventKind::kWatchdogFed:
      fed_ms_ = event.now_ms;
      return {};
    case SupervisorEventKind::kTick:
      return tick(event.now_ms);
  }
  return {};
}

SupervisorAction Supervisor::booted(const SupervisorEvent& event) {
  have_app_ = !event.no_user_app;
  slot_ = event.slot;
  trial_ = have_app_ && event.trial;
  // A protected app on trial is new: the failures so far may have been its predecessor's doing, and only
  // starting the user app lets it confirm itself. It gives the user app one more start.
  if (have_app_ && limits_.boot_budget != 0 && event.failed_boots >= limits_.boot_budget &&
      !event.protected_trial) {
    // No user app can be trusted: rebooting again would only repeat the failure (and write flash).
    have_app_ = false;
    trial_ = false;
    safe_state_ = true;
    phase_ = job_running_ ? Phase::kEnded : Phase::kDone;
    SupervisorAction action;
    action.kind = SupervisorActionKind::kSafeState;
    action.reason = SupervisorReason::kBootBudget;
    action.slot = slot_;
    action.count = event.failed_boots;
    action.limit = limits_.boot_budget;
    return action;
  }
  if (!have_app_) {
    phase_ = Phase::kEnded;
    return app_ended();
  }
  return act(SupervisorActionKind::kLaunch, SupervisorReason::kFirstStart);
}

// The app failed (crashed, exited non-zero, could not be launched) or asked to be restarted. A trial ends at
// once; a valid app is launched again until the crash-loop limit is used up.
SupervisorAction Supervisor::app_failed(SupervisorReason trial_reason, bool restart_asked) {
  if (on_trial() && !restart_asked) return act(SupervisorActionKind::kMarkInvalidAndReboot, trial_reason);
  if (job_activated_) return act(SupervisorActionKind::kReboot, SupervisorReason::kJobActivated);
  if (restarts_ >= limits_.crash_loop_limit) {
    SupervisorAction action = act(SupervisorActionKind::kReboot, SupervisorReason::kCrashLoop);
    action.count = restarts_;
    return action;
  }
  ++restarts_;
  SupervisorAction action =
      restart_asked ? SupervisorAction{SupervisorActionKind::kRestart, SupervisorReason::kRestartAsked}
                    : SupervisorAction{SupervisorActionKind::kLaunch, SupervisorReason::kCrashRestart};
  action.slot = slot_;
  action.count = restarts_;
  action.limit = limits_.crash_loop_limit;
  if (restart_asked) phase_ = Phase::kEnded;  // until the platform reports the new start
  return action;
}

// The app is not running and will not be started again: the device halts unless a job still runs or it
// stays up for the next fleet job.
SupervisorAction Supervisor::app_ended() {
  if (job_activated_) return act(SupervisorActionKind::kReboot, SupervisorReason::kJobActivatedNoApp);
  if (job_running_ || limits_.stay_up) return {};
  if (safe_state_) return act(SupervisorActionKind::kHalt, SupervisorReason::kBootBudget);
  return act(SupervisorActionKind::kHalt,
             have_app_ ? SupervisorReason::kAppEnded : SupervisorReason::kNoUserApp);
}

SupervisorAction Supervisor::job_activated(uint64_t now_ms) {
  job_running_ = false;
  job_activated_ = true;
  if (phase_ != Phase::kRunning)
    return act(SupervisorActionKind::kReboot, SupervisorReason::kJobActivatedNoApp);
  reboot_at_ms_ = now_ms + limits_.reboot_grace_ms;
  return {};
}

SupervisorAction Supervisor::tick(uint64_t now_ms) {
  if (phase_ != Phase::kRunning) return {};
  if (job_activated_ && now_ms >= reboot_at_ms_)
    return act(SupervisorActionKind::kReboot, SupervisorReason::kJobActivated);
  if (on_trial() && now_ms >= confirm_deadline_ms())
    return act(SupervisorActionKind::kMarkInvalidAndReboot, SupervisorReason::kTrialTimeout);
  if (watchdog_ms_ != 0 && now_ms - fed_ms_ >= watchdog_ms_) {
    phase_ = Phase::kEnded;
    SupervisorAction action = app_failed(SupervisorReason::kTrialWatchdog, false);
    if (action.reason == SupervisorReason::kCrashRestart) action.reason = SupervisorReason::kWatchdog;
    return action;
  }
  return {};
}

SupervisorAction Supervisor::act(SupervisorActionKind kind, SupervisorReason reason) {
  SupervisorAction action;
  action.kind = kind;
  action.reason = reason;
  action.slot = slot_;
  action.limit = limits_.crash_loop_limit;
  action.count = restarts_;
  if (kind == SupervisorActionKind::kMarkInvalidAndReboot) {
    action.failure =
        reason == SupervisorReason::kAppGaveUp ? BootFailure::kMarkedInvalid : BootFailure::kTrialFailed;
  }
  if (kind == SupervisorActionKind::kReboot && reason == SupervisorReason::kCrashLoop) {
    action.failure = BootFailure::kCrashLoop;
  }
  if (kind == SupervisorActionKind::kHalt || kind == SupervisorActionKind::kReboot ||
      kind == SupervisorActionKind::kMarkInvalidAndReboot) {
    phase_ = Phase::kDone;
  }
  return action;
}

}  // namespace privota
