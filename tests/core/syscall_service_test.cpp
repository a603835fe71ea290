// Every system call through the core's service: allowed, refused and malformed, with a real flash (the
// device fixture) and fakes for the job runner and the platform.
#include "privota/syscall_service.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "device_fakes.h"
#include "device_fixture.h"

namespace privota {
namespace {

using syscall::Call;
using syscall::Frame;
using test::text;

constexpr const char* kUrl = "https://updates.example.com/user-v2.bin";

class SyscallServiceTest : public ::testing::Test {
 protected:
  // user v1 VALID in user_0 (or on trial: NEW -> PENDING_VERIFY by the boot decision).
  void boot(bool trial) {
    device_.install(AppLevel::kUser, 0, test::signed_image(AppLevel::kUser, "1.0.0", 1));
    if (trial) {
      ASSERT_TRUE(
          device_.update(AppLevel::kUser, 0, test::signed_image(AppLevel::kUser, "2.0.0", 2)).is_ok());
    }
    const Result<BootDecision> decision = device_.boot(AppLevel::kUser);
    ASSERT_TRUE(decision.is_ok());
    ASSERT_EQ(decision->outcome == BootOutcome::kTrial, trial);
    app_.slots = &device_.slots(AppLevel::kUser);
    app_.slot = decision->slot;
    app_.desc = decision->image.info.desc;
    SupervisorEvent booted;
    booted.kind = SupervisorEventKind::kBooted;
    booted.slot = app_.slot;
    booted.trial = trial;
    supervisor_.on(booted);
    supervisor_.on({SupervisorEventKind::kUserStarted, 0});
    service_.emplace(app_, supervisor_, ota_, platform_);
  }

  Frame call(Call c, uint32_t value = 0, const char* string = nullptr) {
    Frame request;
    request.call = c;
    request.id = 77;
    request.values[0] = value;
    if (string != nullptr) {
      EXPECT_TRUE(request.set_string(string).is_ok());
    }
    uint8_t message[syscall::kFrameSize];
    EXPECT_TRUE(syscall::encode(request, message).is_ok());
    uint8_t answer[syscall::kFrameSize];
    last_ = service_->serve(message, answer, now_);
    const Result<Frame> response = syscall::decode(answer, /*expect_response=*/true);
    EXPECT_TRUE(response.is_ok()) << response.status().reason();
    EXPECT_EQ(response->id, 77u);
    EXPECT_EQ(response->call, c);
    return response.value();
  }

  test::Device device_;
  test::TestUrlPolicy urls_;
  test::FakeJobRunner runner_;
  OtaService ota_{runner_, urls_.policy};
  Supervisor supervisor_{SupervisorLimits{}};
  test::FakeSyscallPlatform platform_;
  RunningUserApp app_;
  std::optional<SyscallService> service_;
  SyscallOutcome last_;
  uint64_t now_ = 10;
};

TEST_F(SyscallServiceTest, OtaStartRunsAUserJobAgainstTheRunningApp) {
  boot(false);
  const Frame r = call(Call::kOtaStart, 0, kUrl);
  EXPECT_EQ(r.status, Code::kOk);
  EXPECT_EQ(last_.notice, SyscallNotice::kOtaAccepted);
  ASSERT_EQ(runner_.requests.size(), 1u);
  EXPECT_EQ(r.values[0], runner_.requests[0].id);
  EXPECT_EQ(runner_.requests[0].level, AppLevel::kUser);
  EXPECT_STREQ(runner_.requests[0].running.version, "1.0.0");
}

// Consent to fleet jobs (docs/fleet.md): the offered job's id and version, one answer per offer, no accept
// from a trial app, nothing on a device in no fleet.
TEST_F(SyscallServiceTest, FleetOfferAndAnswer) {
  boot(false);
  EXPECT_EQ(call(Call::kFleetOffer).status, Code::kNotFound);  // in no fleet
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetAccept, "r1-dev").status, Code::kNotFound);
  FleetOffer offers;
  service_->set_fleet_offer(&offers);
  EXPECT_EQ(call(Call::kFleetOffer).status, Code::kNotFound);  // nothing on offer
  ASSERT_TRUE(offers.offer("r1-dev", "2.0.0").is_ok());
  const Frame offer = call(Call::kFleetOffer);
  EXPECT_EQ(offer.status, Code::kOk);
  EXPECT_STREQ(offer.string(), "r1-dev 2.0.0");
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetDefer, "r0-dev").status, Code::kNotFound);
  EXPECT_EQ(offers.take_answer(), FleetAnswer::kNone);
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetDefer, "r1-dev").status, Code::kOk);
  EXPECT_EQ(offers.take_answer(), FleetAnswer::kDefer);
  EXPECT_EQ(offers.take_answer(), FleetAnswer::kNone);
  // Answered: closed until the agent offers it again.
  EXPECT_EQ(call(Call::kFleetOffer).status, Code::kNotFound);
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetAccept, "r1-dev").status, Code::kNotFound);
  ASSERT_TRUE(offers.offer("r1-dev", "2.0.0").is_ok());
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetAccept, "r1-dev").status, Code::kOk);
  EXPECT_EQ(offers.take_answer(), FleetAnswer::kAccept);
  EXPECT_FALSE(offers.offer(std::string(97, 'a').c_str(), "2.0.0").is_ok());
}

TEST_F(SyscallServiceTest, FleetAcceptRefusedOnTrialDeferAllowed) {
  boot(true);
  FleetOffer offers;
  service_->set_fleet_offer(&offers);
  ASSERT_TRUE(offers.offer("r1-dev", "3.0.0").is_ok());
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetAccept, "r1-dev").status, Code::kBadState);
  EXPECT_TRUE(offers.open());
  EXPECT_EQ(call(Call::kFleetAnswer, syscall::kFleetDefer, "r1-dev").status, Code::kOk);
  EXPECT_EQ(offers.take_answer(), FleetAnswer::kDefer);
}

TEST_F(SyscallServiceTest, OtaStartRefusedOnTrial) {
  boot(true);
  const Frame r = call(Call::kOtaStart, 0, kUrl);
  EXPECT_EQ(r.status, Code::kBadState);
  EXPECT_EQ(last_.notice, SyscallNotice::kOtaRefused);
  EXPECT_TRUE(runner_.requests.empty());
}

TEST_F(SyscallServiceTest, OtaStartOutsideThePolicyNamesTheRule) {
  boot(false);
  EXPECT_EQ(call(Call::kOtaStart, 0, "http://updates.example.com/x.bin").status, Code::kUrlSchemeNotAllowed);
  EXPECT_EQ(call(Call::kOtaStart, 0, "https://u:p@updates.example.com/x.bin").status, Code::kUrlUserinfo);
  EXPECT_EQ(last_.status.code(), Code::kUrlUserinfo);
  EXPECT_TRUE(runner_.requests.empty());
}

TEST_F(SyscallServiceTest, OwnersJobIsInvisibleToTheUserApp) {
  boot(false);
  const uint32_t owner = ota_.start(AppLevel::kProtected, text(kUrl), 0, nullptr).value();
  const Frame busy = call(Call::kOtaStart, 0, kUrl);
  EXPECT_EQ(busy.status, Code::kBusy);
  EXPECT_EQ(busy.values[0], 0u);
  EXPECT_EQ(call(Call::kOtaStatus, owner).status, Code::kNotFound);
  EXPECT_EQ(call(Call::kOtaCancel, owner).status, Code::kNotFound);
  call(Call::kOtaMarkInvalidAndReboot);
  EXPECT_TRUE(runner_.stops.empty()) << "giving up on itself must not stop the owner's job";
}

TEST_F(SyscallServiceTest, OtaStatusAndCancelOfItsOwnJob) {
  boot(false);
  const uint32_t id = call(Call::kOtaStart, 0, kUrl).values[0];
  runner_.current.state = JobState::kDownloading;
  runner_.current.bytes_done = 8192;
  runner_.current.bytes_total = 20480;
  Frame r = call(Call::kOtaStatus, id);
  EXPECT_EQ(r.status, Code::kOk);
  EXPECT_EQ(r.values[0], static_cast<uint32_t>(JobState::kDownloading));
  EXPECT_EQ(r.values[1], 8192u);
  EXPECT_EQ(r.values[2], 20480u);
  EXPECT_EQ(call(Call::kOtaCancel, id).status, Code::kOk);
  ASSERT_EQ(runner_.stops.size(), 1u);
  EXPECT_FALSE(runner_.stops[0]);
  JobProgress last = runner_.current;
  last.state = JobState::kCancelled;
  ota_.on_job_finished(Status::error(Code::kCancelled, "cancelled by the user app"), last);
  r = call(Call::kOtaStatus, id);
  EXPECT_EQ(r.values[0], static_cast<uint32_t>(JobState::kCancelled));
  EXPECT_EQ(r.values[3], static_cast<uint32_t>(Code::kCancelled));
  EXPECT_STREQ(r.string(), "cancelled by the user app");
  EXPECT_EQ(call(Call::kOtaStatus, id + 5).status, Code::kNotFound);
}

TEST_F(SyscallServiceTest, MarkValidConfirmsATrialOnce) {
  boot(true);
  EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kOk);
  EXPECT_EQ(last_.notice, SyscallNotice::kConfirmed);
  EXPECT_FALSE(supervisor_.on_trial());
  EXPECT_EQ(device_.view(AppLevel::kUser).active_state(), OtaState::kValid);
  EXPECT_EQ(device_.floor(AppLevel::kUser), 2u);
  const std::vector<uint8_t> before = device_.flash().cells();
  EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kOk);
  EXPECT_EQ(last_.notice, SyscallNotice::kNone);
  EXPECT_TRUE(device_.flash().cells() == before) << "a repeated confirmation wrote flash";
}

TEST_F(SyscallServiceTest, MarkValidWhileTheOwnersJobRuns) {
  boot(true);
  ASSERT_TRUE(ota_.start(AppLevel::kProtected, text(kUrl), 0, nullptr).is_ok());
  EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kOk) << "the owner's job keeps no journal in uotadata";
  EXPECT_FALSE(supervisor_.on_trial());
}

TEST_F(SyscallServiceTest, MarkValidBusyWhileItsOwnJobKeepsAJournal) {
  device_.install(AppLevel::kUser, 0, test::signed_image(AppLevel::kUser, "1.0.0", 1));
  // A factory-fresh selection: nothing selected, so the app is not confirmed yet.
  ASSERT_TRUE(device_.slots(AppLevel::kUser).select.erase(0, 2 * Flash::kSectorSize).is_ok());
  const Result<BootDecision> decision = device_.boot(AppLevel::kUser);
  ASSERT_EQ(decision->outcome, BootOutcome::kFallback);
  app_.slots = &device_.slots(AppLevel::kUser);
  app_.slot = 0;
  app_.desc = decision->image.info.desc;
  service_.emplace(app_, supervisor_, ota_, platform_);
  const uint32_t id = call(Call::kOtaStart, 0, kUrl).values[0];
  const Frame r = call(Call::kOtaMarkValid);
  EXPECT_EQ(r.status, Code::kBusy);
  EXPECT_EQ(r.values[0], id);
}

TEST_F(SyscallServiceTest, MarkValidAfterActivationWritesNothing) {
  boot(false);
  call(Call::kOtaStart, 0, kUrl);
  JobProgress last;
  last.state = JobState::kRebooting;
  ota_.on_job_finished(Status::ok(), last);
  const std::vector<uint8_t> before = device_.flash().cells();
  EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kOk);
  EXPECT_TRUE(device_.flash().cells() == before) << "the confirmation undid the new selection";
}

// The job thread has activated, but the platform has not reported the job's end yet: the confirmation must
// neither answer BUSY (the app would take that as a failure) nor write (it would undo the new selection).
TEST_F(SyscallServiceTest, MarkValidWhileTheJobActivatesWritesNothing) {
  device_.install(AppLevel::kUser, 0, test::signed_image(AppLevel::kUser, "1.0.0", 1));
  ASSERT_TRUE(device_.slots(AppLevel::kUser).select.erase(0, 2 * Flash::kSectorSize).is_ok());
  const Result<BootDecision> decision = device_.boot(AppLevel::kUser);
  app_.slots = &device_.slots(AppLevel::kUser);
  app_.slot = 0;
  app_.desc = decision->image.info.desc;
  service_.emplace(app_, supervisor_, ota_, platform_);
  call(Call::kOtaStart, 0, kUrl);
  for (const JobState state : {JobState::kActivating, JobState::kRebooting}) {
    runner_.current.state = state;
    const std::vector<uint8_t> before = device_.flash().cells();
    EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kOk) << job_state_name(state);
    EXPECT_TRUE(device_.flash().cells() == before) << job_state_name(state);
  }
  runner_.current.state = JobState::kVerifying;
  EXPECT_EQ(call(Call::kOtaMarkValid).status, Code::kBusy) << "the journal is still live while verifying";
}

TEST_F(SyscallServiceTest, MarkInvalidCancelsItsOwnJobThenAsksTheSupervisor) {
  boot(false);
  call(Call::kOtaStart, 0, kUrl);
  const Frame r = call(Call::kOtaMarkInvalidAndReboot);
  EXPECT_EQ(r.status, Code::kOk);
  ASSERT_EQ(runner_.stops.size(), 1u);
  EXPECT_FALSE(runner_.stops[0]) << "its own job's journal must be closed before the selection write";
  EXPECT_EQ(last_.notice, SyscallNotice::kGaveUp);
  EXPECT_EQ(last_.action.kind, SupervisorActionKind::kMarkInvalidAndReboot);
  EXPECT_EQ(last_.action.slot, 0u);
}

TEST_F(SyscallServiceTest, RestartIsTheSupervisorsCall) {
  boot(false);
  EXPECT_EQ(call(Call::kRestart).status, Code::kOk);
  EXPECT_EQ(last_.action.kind, SupervisorActionKind::kRestart);
}

TEST_F(SyscallServiceTest, AppInfoOfTheRunningSlotFromMemory) {
  boot(true);
  const Frame r = call(Call::kAppInfo, syscall::kRunningSlot);
  EXPECT_EQ(r.status, Code::kOk);
  EXPECT_EQ(r.values[0], 1u);
  EXPECT_EQ(r.values[1], 2u);
  EXPECT_EQ(r.values[2], static_cast<uint32_t>(OtaState::kPendingVerify));
  EXPECT_EQ(r.values[3], 1u);
  EXPECT_STREQ(r.string(), "user 2.0.0");
  EXPECT_EQ(platform_.verifications, 0);
}

TEST_F(SyscallServiceTest, AppInfoOfTheOtherSlotVerifiesOnceUntilAJobWrites) {
  boot(true);
  AppDescriptor v1;
  std::strcpy(v1.project_name, "user");
  std::strcpy(v1.version, "1.0.0");
  v1.secure_version = 1;
  platform_.slot_image = v1;
  for (int i = 0; i < 5; ++i) {
    const Frame r = call(Call::kAppInfo, 0);
    EXPECT_EQ(r.status, Code::kOk);
    // Both select entries now name user_1 (NEW, then PENDING_VERIFY): none is left for user_0.
    EXPECT_EQ(r.values[2], static_cast<uint32_t>(OtaState::kUndefined));
    EXPECT_EQ(r.values[3], 0u);
    EXPECT_STREQ(r.string(), "user 1.0.0");
  }
  EXPECT_EQ(platform_.verifications, 1);
  call(Call::kOtaMarkValid);
  call(Call::kOtaStart, 0, kUrl);  // a user job may now write user_0
  call(Call::kAppInfo, 0);
  call(Call::kAppInfo, 0);
  EXPECT_EQ(platform_.verifications, 3) << "nothing may be remembered while a job writes the slot";
  ota_.on_job_finished(Status::error(Code::kNetwork, "refused"), JobProgress{});
  call(Call::kAppInfo, 0);
  call(Call::kAppInfo, 0);
  EXPECT_EQ(platform_.verifications, 4);
}

TEST_F(SyscallServiceTest, AppInfoRefusals) {
  boot(false);
  EXPECT_EQ(call(Call::kAppInfo, 1).status, Code::kNotFound) << "an empty slot";
  EXPECT_EQ(platform_.verified_slot, 1u);
  // A slot the device does not have is refused by the decoder, before any verification.
  Frame request;
  request.call = Call::kAppInfo;
  request.values[0] = 2;
  uint8_t message[syscall::kFrameSize];
  uint8_t answer[syscall::kFrameSize];
  ASSERT_TRUE(syscall::encode(request, message).is_ok());
  const SyscallOutcome outcome = service_->serve(message, answer, now_);
  EXPECT_EQ(outcome.notice, SyscallNotice::kMalformed);
  EXPECT_EQ(outcome.status.code(), Code::kInvalidArgument);
  EXPECT_EQ(platform_.verifications, 1);
}

TEST_F(SyscallServiceTest, LogGoesToThePlatform) {
  boot(false);
  EXPECT_EQ(call(Call::kLog, 2, "hello").status, Code::kOk);
  ASSERT_EQ(platform_.logs.size(), 1u);
  EXPECT_EQ(platform_.logs[0], "2:hello");
}

TEST_F(SyscallServiceTest, WatchdogArmAndFeedReachTheSupervisor) {
  boot(false);
  EXPECT_EQ(call(Call::kWatchdogArm, 200).status, Code::kOk);
  now_ = 150;
  EXPECT_EQ(call(Call::kWatchdogFeed).status, Code::kOk);
  EXPECT_EQ(supervisor_.on({SupervisorEventKind::kTick, 349}).kind, SupervisorActionKind::kNone)
      << "the feed at 150 moved the deadline to 350";
  const SupervisorAction missed = supervisor_.on({SupervisorEventKind::kTick, 350});
  EXPECT_EQ(missed.kind, SupervisorActionKind::kLaunch);
  EXPECT_EQ(missed.reason, SupervisorReason::kWatchdog);
}

TEST_F(SyscallServiceTest, WatchdogPeriodOutsideTheAbiIsMalformed) {
  boot(false);
  Frame request;
  request.call = Call::kWatchdogArm;
  request.values[0] = syscall::kMinWatchdogMs - 1;
  uint8_t message[syscall::kFrameSize];
  uint8_t answer[syscall::kFrameSize];
  ASSERT_TRUE(syscall::encode(request, message).is_ok());
  const SyscallOutcome outcome = service_->serve(message, answer, now_);
  EXPECT_EQ(outcome.notice, SyscallNotice::kMalformed);
  EXPECT_EQ(supervisor_.on({SupervisorEventKind::kTick, 100000}).kind, SupervisorActionKind::kNone)
      << "a refused arm must not arm the watchdog";
}

TEST_F(SyscallServiceTest, ALogFloodIsDroppedCountedAndToldOnce) {
  boot(false);
  service_.emplace(app_, supervisor_, ota_, platform_, LogBudgetLimits{100, 10});
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(call(Call::kLog, 2, "0123456789012345678").status, Code::kOk) << "a dropped line is no failure";
  EXPECT_EQ(platform_.logs.size(), 5u) << "100 bytes of burst: five 20-byte lines";
  EXPECT_TRUE(platform_.drops.empty());
  now_ += 2000;  // 20 bytes earned
  call(Call::kLog, 2, "0123456789012345678");
  ASSERT_EQ(platform_.drops.size(), 1u);
  EXPECT_EQ(platform_.drops[0], "log:15/300");
  EXPECT_EQ(platform_.logs.size(), 6u);
}

struct Malformed {
  const char* name;
  std::vector<uint8_t> bytes;
};

TEST_F(SyscallServiceTest, MalformedMessagesAreAnsweredAndCounted) {
  boot(false);
  Frame good;
  good.call = Call::kLog;
  good.values[0] = 9;  // level out of range
  uint8_t bad_level[syscall::kFrameSize];
  ASSERT_TRUE(syscall::encode(good, bad_level).is_ok());
  const Malformed rows[] = {
      {"empty", {}},
      {"short", std::vector<uint8_t>(100, 0)},
      {"oversized", std::vector<uint8_t>(syscall::kFrameSize + 1, 0)},
      {"garbage", std::vector<uint8_t>(syscall::kFrameSize, 0xA5)},
      {"log level 9", std::vector<uint8_t>(bad_level, bad_level + sizeof bad_level)},
  };
  for (const Malformed& row : rows) {
    uint8_t answer[syscall::kFrameSize];
    const SyscallOutcome outcome = service_->serve({row.bytes.data(), row.bytes.size()}, answer, now_);
    EXPECT_EQ(outcome.notice, SyscallNotice::kMalformed) << row.name;
    EXPECT_FALSE(outcome.status.is_ok()) << row.name;
    const Result<Frame> response = syscall::decode(answer, true);
    ASSERT_TRUE(response.is_ok()) << row.name;
    EXPECT_EQ(response->status, outcome.status.code()) << row.name;
    EXPECT_EQ(response->id, 0u) << row.name;
  }
  EXPECT_EQ(service_->malformed(), 5u);
  EXPECT_TRUE(platform_.logs.empty());
}

}  // namespace
}  // namespace privota
