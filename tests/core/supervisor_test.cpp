// The supervision rules (docs/device.md's table) driven event by event, without processes.
#include "privota/supervisor.h"

#include <gtest/gtest.h>

#include <vector>

namespace privota {
namespace {

using Kind = SupervisorEventKind;
using Act = SupervisorActionKind;
using Why = SupervisorReason;

constexpr SupervisorLimits kLimits{1000, 2, 300};

SupervisorEvent event(Kind kind, uint64_t now = 0, int32_t code = 0) {
  SupervisorEvent e;
  e.kind = kind;
  e.now_ms = now;
  e.code = code;
  return e;
}

// A supervisor that booted `slot` (on trial or not) and whose app the platform started at t=0.
Supervisor started(bool trial, uint32_t slot = 1) {
  Supervisor s(kLimits);
  SupervisorEvent booted = event(Kind::kBooted);
  booted.slot = slot;
  booted.trial = trial;
  const SupervisorAction launch = s.on(booted);
  EXPECT_EQ(launch.kind, Act::kLaunch);
  EXPECT_EQ(launch.slot, slot);
  EXPECT_EQ(launch.reason, Why::kFirstStart);
  EXPECT_EQ(s.on(event(Kind::kUserStarted, 0)).kind, Act::kNone);
  return s;
}

struct Row {
  const char* name;
  bool trial;
  std::vector<SupervisorEvent> events;  // after the app started at t=0
  Act last_action;
  Why last_reason;
};

class SupervisionTable : public ::testing::TestWithParam<Row> {};

TEST_P(SupervisionTable, AnswersAsDocumented) {
  const Row& row = GetParam();
  Supervisor s = started(row.trial);
  SupervisorAction action;
  for (const SupervisorEvent& e : row.events)
    action = s.on(e);
  EXPECT_EQ(action.kind, row.last_action) << row.name;
  EXPECT_EQ(action.reason, row.last_reason) << row.name << ": " << supervisor_reason_name(action.reason);
  if (action.kind == Act::kMarkInvalidAndReboot || action.kind == Act::kLaunch) {
    EXPECT_EQ(action.slot, 1u);
  }
}

const Row kRows[] = {
    {"trial confirms", true, {event(Kind::kConfirmed, 10)}, Act::kNone, Why::kNone},
    {"trial confirmed, later ticks are quiet",
     true,
     {event(Kind::kConfirmed, 10), event(Kind::kTick, 5000)},
     Act::kNone,
     Why::kNone},
    {"trial crashes", true, {event(Kind::kCrashed, 10, 11)}, Act::kMarkInvalidAndReboot, Why::kTrialCrashed},
    {"trial exits 0", true, {event(Kind::kExited, 10, 0)}, Act::kMarkInvalidAndReboot, Why::kTrialExited},
    {"trial exits 3", true, {event(Kind::kExited, 10, 3)}, Act::kMarkInvalidAndReboot, Why::kTrialExited},
    {"trial before its deadline", true, {event(Kind::kTick, 999)}, Act::kNone, Why::kNone},
    {"trial misses its deadline",
     true,
     {event(Kind::kTick, 1000)},
     Act::kMarkInvalidAndReboot,
     Why::kTrialTimeout},
    {"trial gives up",
     true,
     {event(Kind::kInvalidAndRebootAsked, 5)},
     Act::kMarkInvalidAndReboot,
     Why::kAppGaveUp},
    {"valid app gives up",
     false,
     {event(Kind::kInvalidAndRebootAsked, 5)},
     Act::kMarkInvalidAndReboot,
     Why::kAppGaveUp},
    {"valid app never times out", false, {event(Kind::kTick, 100000)}, Act::kNone, Why::kNone},
    {"valid exits 0", false, {event(Kind::kExited, 10, 0)}, Act::kHalt, Why::kAppEnded},
    {"valid exits 0 while a job runs",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kExited, 10, 0)},
     Act::kNone,
     Why::kNone},
    {"valid exited, then the job fails",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kExited, 10, 0), event(Kind::kJobEnded, 20)},
     Act::kHalt,
     Why::kAppEnded},
    {"valid exited, then the job activates",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kExited, 10, 0), event(Kind::kJobActivated, 20)},
     Act::kReboot,
     Why::kJobActivatedNoApp},
    {"valid crashes", false, {event(Kind::kCrashed, 10, 11)}, Act::kLaunch, Why::kCrashRestart},
    {"valid exits non-zero", false, {event(Kind::kExited, 10, 1)}, Act::kLaunch, Why::kCrashRestart},
    {"valid crashes past the limit",
     false,
     {event(Kind::kCrashed, 1), event(Kind::kUserStarted, 2), event(Kind::kCrashed, 3),
      event(Kind::kUserStarted, 4), event(Kind::kCrashed, 5)},
     Act::kReboot,
     Why::kCrashLoop},
    {"restart asked", false, {event(Kind::kRestartAsked, 5)}, Act::kRestart, Why::kRestartAsked},
    {"restarts count toward the crash loop",
     false,
     {event(Kind::kRestartAsked, 1), event(Kind::kUserStarted, 2), event(Kind::kRestartAsked, 3),
      event(Kind::kUserStarted, 4), event(Kind::kRestartAsked, 5)},
     Act::kReboot,
     Why::kCrashLoop},
    {"trial restart asked is a restart",
     true,
     {event(Kind::kRestartAsked, 5)},
     Act::kRestart,
     Why::kRestartAsked},
    {"trial launch failed",
     true,
     {event(Kind::kLaunchFailed, 5)},
     Act::kMarkInvalidAndReboot,
     Why::kTrialLaunchFailed},
    {"valid relaunch failed",
     false,
     {event(Kind::kCrashed, 1), event(Kind::kLaunchFailed, 2)},
     Act::kLaunch,
     Why::kCrashRestart},
    {"job activates while the app runs: grace",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kJobActivated, 100), event(Kind::kTick, 399)},
     Act::kNone,
     Why::kNone},
    {"job activates while the app runs: grace over",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kJobActivated, 100), event(Kind::kTick, 400)},
     Act::kReboot,
     Why::kJobActivated},
    {"app ends during the grace",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kJobActivated, 100), event(Kind::kExited, 150, 0)},
     Act::kReboot,
     Why::kJobActivatedNoApp},
    {"app crashes during the grace: no restart",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kJobActivated, 100), event(Kind::kCrashed, 150, 11)},
     Act::kReboot,
     Why::kJobActivated},
    {"gives up after a job selected an image: reboot only",
     false,
     {event(Kind::kJobStarted, 1), event(Kind::kJobActivated, 100), event(Kind::kInvalidAndRebootAsked, 150)},
     Act::kReboot,
     Why::kJobActivated},
    {"nothing after a reboot was decided",
     true,
     {event(Kind::kCrashed, 10), event(Kind::kUserStarted, 11), event(Kind::kTick, 5000)},
     Act::kNone,
     Why::kNone},
};

INSTANTIATE_TEST_SUITE_P(Rows, SupervisionTable, ::testing::ValuesIn(kRows));

TEST(Supervisor, HaltsWithoutAUserAppWhenNoJobRuns) {
  Supervisor s(kLimits);
  SupervisorEvent booted = event(Kind::kBooted);
  booted.no_user_app = true;
  const SupervisorAction action = s.on(booted);
  EXPECT_EQ(action.kind, Act::kHalt);
  EXPECT_EQ(action.reason, Why::kNoUserApp);
}

TEST(Supervisor, WaitsForAResumedJobWithoutAUserApp) {
  Supervisor s(kLimits);
  EXPECT_EQ(s.on(event(Kind::kJobStarted)).kind, Act::kNone);
  SupervisorEvent booted = event(Kind::kBooted);
  booted.no_user_app = true;
  EXPECT_EQ(s.on(booted).kind, Act::kNone);
  const SupervisorAction action = s.on(event(Kind::kJobActivated, 50));
  EXPECT_EQ(action.kind, Act::kReboot);
  EXPECT_EQ(action.reason, Why::kJobActivatedNoApp);
}

// A fleet device's jobs come from outside: it waits for them instead of halting, and reboots into what one
// of them selects.
TEST(Supervisor, AFleetDeviceStaysUpAfterItsAppEndedAndRebootsForAJob) {
  SupervisorLimits limits = kLimits;
  limits.stay_up = true;
  Supervisor s(limits);
  SupervisorEvent booted = event(Kind::kBooted);
  booted.no_user_app = true;
  EXPECT_EQ(s.on(booted).kind, Act::kNone);
  EXPECT_EQ(s.on(event(Kind::kTick, 10)).kind, Act::kNone);
  EXPECT_EQ(s.on(event(Kind::kJobStarted, 20)).kind, Act::kNone);
  EXPECT_EQ(s.on(event(Kind::kJobEnded, 30)).kind, Act::kNone);
  EXPECT_EQ(s.on(event(Kind::kJobStarted, 40)).kind, Act::kNone);
  const SupervisorAction action = s.on(event(Kind::kJobActivated, 50));
  EXPECT_EQ(action.kind, Act::kReboot);
  EXPECT_EQ(action.reason, Why::kJobActivatedNoApp);

  Supervisor valid(limits);
  SupervisorEvent with_app = event(Kind::kBooted);
  ASSERT_EQ(valid.on(with_app).kind, Act::kLaunch);
  (void)valid.on(event(Kind::kUserStarted, 1));
  EXPECT_EQ(valid.on(event(Kind::kExited, 5)).kind, Act::kNone);  // exited 0: no halt
}

TEST(Supervisor, CountsRestartsAgainstTheLimit) {
  Supervisor s = started(false);
  SupervisorAction a = s.on(event(Kind::kCrashed, 1));
  EXPECT_EQ(a.count, 1u);
  EXPECT_EQ(a.limit, 2u);
  s.on(event(Kind::kUserStarted, 2));
  a = s.on(event(Kind::kRestartAsked, 3));
  EXPECT_EQ(a.kind, Act::kRestart);
  EXPECT_EQ(a.count, 2u);
  EXPECT_EQ(s.restarts(), 2u);
}

TEST(Supervisor, TrialDeadlineCountsFromTheLaunch) {
  Supervisor s(kLimits);
  SupervisorEvent booted = event(Kind::kBooted);
  booted.trial = true;
  s.on(booted);
  s.on(event(Kind::kUserStarted, 5000));
  EXPECT_EQ(s.confirm_deadline_ms(), 6000u);
  EXPECT_EQ(s.on(event(Kind::kTick, 5999)).kind, Act::kNone);
  EXPECT_EQ(s.on(event(Kind::kTick, 6000)).kind, Act::kMarkInvalidAndReboot);
}

TEST(Supervisor, ConfirmedTrialIsValidFromThenOn) {
  Supervisor s = started(true);
  EXPECT_TRUE(s.on_trial());
  s.on(event(Kind::kConfirmed, 10));
  EXPECT_FALSE(s.on_trial());
  const SupervisorAction a = s.on(event(Kind::kCrashed, 20));
  EXPECT_EQ(a.kind, Act::kLaunch);
  EXPECT_EQ(a.reason, Why::kCrashRestart);
}

TEST(Supervisor, EveryReasonHasAName) {
  for (int r = 0; r <= static_cast<int>(Why::kWatchdog); ++r)
    EXPECT_STRNE(supervisor_reason_name(static_cast<Why>(r)), "unknown") << r;
}

}  // namespace
}  // namespace privota

namespace privota {
namespace {

SupervisorEvent armed(uint64_t now, uint32_t period) {
  SupervisorEvent e = event(Kind::kWatchdogArmed, now);
  e.code = static_cast<int32_t>(period);
  return e;
}

TEST(SupervisorWatchdog, AFedWatchdogIsQuiet) {
  Supervisor s = started(false);
  s.on(armed(0, 500));
  for (uint64_t t = 400; t < 5000; t += 400) {
    EXPECT_EQ(s.on(event(Kind::kWatchdogFed, t)).kind, Act::kNone);
    EXPECT_EQ(s.on(event(Kind::kTick, t + 399)).kind, Act::kNone);
  }
}

TEST(SupervisorWatchdog, AMissedFeedRestartsAValidApp) {
  Supervisor s = started(false);
  s.on(armed(100, 500));
  EXPECT_EQ(s.on(event(Kind::kTick, 599)).kind, Act::kNone);
  const SupervisorAction a = s.on(event(Kind::kTick, 600));
  EXPECT_EQ(a.kind, Act::kLaunch);
  EXPECT_EQ(a.reason, Why::kWatchdog);
  EXPECT_EQ(a.count, 1u);
}

TEST(SupervisorWatchdog, AMissedFeedEndsATrial) {
  Supervisor s = started(true);
  s.on(armed(0, 200));
  const SupervisorAction a = s.on(event(Kind::kTick, 200));
  EXPECT_EQ(a.kind, Act::kMarkInvalidAndReboot);
  EXPECT_EQ(a.reason, Why::kTrialWatchdog);
}

TEST(SupervisorWatchdog, DisarmedOrRestartedAppStartsUnarmed) {
  Supervisor s = started(false);
  s.on(armed(0, 200));
  s.on(armed(10, 0));
  EXPECT_EQ(s.on(event(Kind::kTick, 10000)).kind, Act::kNone);
  s.on(armed(10000, 200));
  EXPECT_EQ(s.on(event(Kind::kTick, 10200)).kind, Act::kLaunch);
  s.on(event(Kind::kUserStarted, 10300));
  EXPECT_EQ(s.on(event(Kind::kTick, 20000)).kind, Act::kNone) << "the new process has not armed it";
}

TEST(SupervisorWatchdog, MissedFeedsCountTowardTheCrashLoop) {
  Supervisor s = started(false);
  uint64_t t = 0;
  SupervisorAction a;
  for (int i = 0; i < 3; ++i) {
    s.on(armed(t, 100));
    t += 100;
    a = s.on(event(Kind::kTick, t));
    s.on(event(Kind::kUserStarted, t));
  }
  EXPECT_EQ(a.kind, Act::kReboot);
  EXPECT_EQ(a.reason, Why::kCrashLoop);
}

}  // namespace
}  // namespace privota

namespace privota {
namespace {

SupervisorEvent booted_after(uint32_t failed_boots) {
  SupervisorEvent e;
  e.kind = SupervisorEventKind::kBooted;
  e.slot = 1;
  e.failed_boots = failed_boots;
  return e;
}

TEST(SupervisorBootBudget, BelowTheBudgetTheAppStarts) {
  Supervisor s(SupervisorLimits{1000, 2, 300, 5});
  EXPECT_EQ(s.on(booted_after(4)).kind, SupervisorActionKind::kLaunch);
  EXPECT_FALSE(s.safe_state());
}

TEST(SupervisorBootBudget, AtTheBudgetTheDeviceStaysUpInTheSafeState) {
  Supervisor s(SupervisorLimits{1000, 2, 300, 5});
  const SupervisorAction a = s.on(booted_after(5));
  EXPECT_EQ(a.kind, SupervisorActionKind::kSafeState);
  EXPECT_EQ(a.reason, SupervisorReason::kBootBudget);
  EXPECT_EQ(a.count, 5u);
  EXPECT_EQ(a.limit, 5u);
  EXPECT_TRUE(s.safe_state());
  EXPECT_TRUE(s.finished());  // no job runs: nothing else happens this boot, and no reboot
}

TEST(SupervisorBootBudget, AnOwnersJobStillRunsAndRebootsIntoItsImage) {
  Supervisor s(SupervisorLimits{1000, 2, 300, 5});
  EXPECT_EQ(s.on({SupervisorEventKind::kJobStarted}).kind, SupervisorActionKind::kNone);
  EXPECT_EQ(s.on(booted_after(7)).kind, SupervisorActionKind::kSafeState);
  EXPECT_FALSE(s.finished());
  SupervisorEvent activated;
  activated.kind = SupervisorEventKind::kJobActivated;
  const SupervisorAction a = s.on(activated);
  EXPECT_EQ(a.kind, SupervisorActionKind::kReboot);
  EXPECT_EQ(a.failure, BootFailure::kNone);  // not the user app's failure
}

TEST(SupervisorBootBudget, AJobThatEndsInTheSafeStateHalts) {
  Supervisor s(SupervisorLimits{1000, 2, 300, 5});
  (void)s.on({SupervisorEventKind::kJobStarted});
  (void)s.on(booted_after(5));
  const SupervisorAction a = s.on({SupervisorEventKind::kJobEnded});
  EXPECT_EQ(a.kind, SupervisorActionKind::kHalt);
  EXPECT_EQ(a.reason, SupervisorReason::kBootBudget);
}

TEST(SupervisorBootBudget, ANewProtectedAppOnTrialGivesTheUserAppOneMoreStart) {
  // The owner's protected update must not be rolled back for want of a user app to start: its start is
  // what confirms it, and the old protected app may have been what made the user app fail.
  Supervisor s(SupervisorLimits{1000, 2, 300, 5});
  SupervisorEvent booted = booted_after(9);
  booted.protected_trial = true;
  const SupervisorAction a = s.on(booted);
  EXPECT_EQ(a.kind, SupervisorActionKind::kLaunch);
  EXPECT_FALSE(s.safe_state());
}

TEST(SupervisorBootBudget, ABudgetOfZeroNeverStopsTheApp) {
  Supervisor s(SupervisorLimits{1000, 2, 300, 0});
  EXPECT_EQ(s.on(booted_after(200)).kind, SupervisorActionKind::kLaunch);
}

TEST(SupervisorBootBudget, RebootsCausedByTheUserAppSayWhyForTheCount) {
  {
    Supervisor s(SupervisorLimits{1000, 2, 300, 5});
    (void)s.on(booted_after(0));
    EXPECT_EQ(s.on({SupervisorEventKind::kInvalidAndRebootAsked}).failure, BootFailure::kMarkedInvalid);
  }
  {
    Supervisor s(SupervisorLimits{1000, 0, 300, 5});
    (void)s.on(booted_after(0));
    (void)s.on({SupervisorEventKind::kUserStarted});
    const SupervisorAction a = s.on({SupervisorEventKind::kCrashed});
    EXPECT_EQ(a.kind, SupervisorActionKind::kReboot);
    EXPECT_EQ(a.failure, BootFailure::kCrashLoop);
  }
  {
    Supervisor s(SupervisorLimits{1000, 2, 300, 5});
    SupervisorEvent trial = booted_after(0);
    trial.trial = true;
    (void)s.on(trial);
    (void)s.on({SupervisorEventKind::kUserStarted});
    EXPECT_EQ(s.on({SupervisorEventKind::kCrashed}).failure, BootFailure::kTrialFailed);
  }
}

}  // namespace
}  // namespace privota
