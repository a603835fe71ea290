// The update engine at both levels: OtaWriter into the passive slot, boot selection with trial, confirm,
// rollback and anti-rollback. Real signed images, a whole device flash in memory.
#include <gtest/gtest.h>

#include "device_fixture.h"
#include "privota/host/timed_flash.h"
#include "privota/ota_service.h"

namespace privota {
namespace {

using test::Device;
using test::signed_image;

class UpdateEngine : public testing::TestWithParam<AppLevel> {
 protected:
  AppLevel level() const { return GetParam(); }
  const std::vector<uint8_t>& v1() { return signed_image(level(), "1.0.0", 1); }
  const std::vector<uint8_t>& v2() { return signed_image(level(), "2.0.0", 2); }

  void expect_boot(Device& d, BootOutcome outcome, uint32_t slot, const char* version) {
    const Result<BootDecision> boot = d.boot(level());
    ASSERT_TRUE(boot.is_ok()) << boot.status().reason();
    EXPECT_EQ(boot->outcome, outcome) << boot_outcome_name(boot->outcome);
    EXPECT_EQ(boot->slot, slot);
    EXPECT_STREQ(boot->image.info.desc.version, version);
  }
};

TEST_P(UpdateEngine, NewImageIsTriedThenConfirmed) {
  Device d;
  d.install(level(), 0, v1());
  expect_boot(d, BootOutcome::kNormal, 0, "1.0.0");
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  EXPECT_EQ(d.view(level()).active_state(), OtaState::kNew);
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  EXPECT_EQ(d.view(level()).active_state(), OtaState::kPendingVerify);
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 1, 2).is_ok());
  EXPECT_EQ(d.view(level()).active_state(), OtaState::kValid);
  EXPECT_EQ(d.floor(level()), 2u);
  expect_boot(d, BootOutcome::kNormal, 1, "2.0.0");
}

TEST_P(UpdateEngine, RollsBackWhenTheTrialDoesNotConfirm) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  // No mark_app_valid() and no report at all (a power cut, a reset): each boot uses one of the trial's
  // kDefaultTrialBoots boots; the one after the last goes back.
  for (uint32_t trial_boot = 2; trial_boot <= kDefaultTrialBoots; ++trial_boot) {
    const Result<BootDecision> again = d.boot(level());
    ASSERT_TRUE(again.is_ok()) << again.status().reason();
    EXPECT_EQ(again->outcome, BootOutcome::kTrial);
    EXPECT_EQ(again->trial_boot, trial_boot);
    EXPECT_EQ(d.view(level()).trial_marks_used(), trial_boot - 1);
  }
  const Result<BootDecision> boot = d.boot(level());
  ASSERT_TRUE(boot.is_ok());
  EXPECT_EQ(boot->outcome, BootOutcome::kRolledBack);
  EXPECT_EQ(boot->slot, 0u);
  EXPECT_EQ(boot->rejected_slot, 1);
  EXPECT_EQ(d.view(level()).active_state(), OtaState::kValid);
  EXPECT_EQ(d.floor(level()), 0u);  // the floor rose only for apps that confirmed
  expect_boot(d, BootOutcome::kNormal, 0, "1.0.0");
}

TEST_P(UpdateEngine, RollsBackWhenTheTrialMarksItselfInvalid) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(mark_app_invalid(d.slots(level()), 1).is_ok());
  expect_boot(d, BootOutcome::kRolledBack, 0, "1.0.0");
  EXPECT_EQ(mark_app_valid(d.slots(level()), 0, 1).code(), Code::kOk);
}

TEST_P(UpdateEngine, ATrialThatConfirmsOnItsSecondBootIsKept) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");  // the first trial boot lost power
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 1, 2).is_ok());
  EXPECT_EQ(d.view(level()).trial_marks_used(), 0u);  // a selection write starts with fresh marks
  expect_boot(d, BootOutcome::kNormal, 1, "2.0.0");
}

// A valid app that confirms on every boot and then crashes must still use up the boot budget: only a
// confirmed trial (or a new image) ends a failure streak.
TEST_P(UpdateEngine, AValidAppConfirmingAgainDoesNotEndAFailureStreak) {
  Device d;
  d.install(level(), 0, v1());
  AppSlots& slots = d.slots(level());
  ASSERT_TRUE(add_failed_boot(slots.select, 2, 0, BootFailure::kCrashLoop).is_ok());
  ASSERT_TRUE(add_failed_boot(slots.select, 2, 0, BootFailure::kCrashLoop).is_ok());
  ASSERT_TRUE(mark_app_valid(slots, 0, 1).is_ok());
  EXPECT_EQ(d.view(level()).failed_boots(), 2u);
  // A trial that confirms ends it.
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(add_failed_boot(slots.select, 2, 1, BootFailure::kTrialFailed).is_ok());
  ASSERT_TRUE(mark_app_valid(slots, 1, 2).is_ok());
  EXPECT_EQ(d.view(level()).failed_boots(), 0u);
}

// The running app confirming itself after a job selected a new image (the job's write came first) must not
// select the running app again: the next boot tries the new one.
TEST_P(UpdateEngine, AConfirmationAfterAJobSelectedANewImageWritesNothing) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  const uint32_t seq = d.view(level()).entries[d.view(level()).active].ota_seq;
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 0, 1).is_ok());
  EXPECT_EQ(d.view(level()).entries[d.view(level()).active].ota_seq, seq);
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
}

TEST_P(UpdateEngine, ATrialBudgetOfOneRollsBackAtTheFirstUnreportedBoot) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  BootContext c = d.context(level());
  c.trial_boots = 1;
  ASSERT_EQ(select_boot_slot(c)->outcome, BootOutcome::kTrial);
  EXPECT_EQ(select_boot_slot(c)->outcome, BootOutcome::kRolledBack);
}

TEST_P(UpdateEngine, AnImageMarkedInvalidStaysRefusedAcrossSelectionWrites) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(mark_app_invalid(d.slots(level()), 1).is_ok());
  expect_boot(d, BootOutcome::kRolledBack, 0, "1.0.0");
  // Any number of later selection writes (journal rotations, confirmations) carry the refusal forward.
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(write_ota_selection(d.slots(level()).select, 2, 0, OtaState::kValid).is_ok());
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 0, 1).is_ok());
  AppDescriptor refused;
  ASSERT_TRUE(refused_image(d.view(level()), refused));
  EXPECT_STREQ(refused.version, "2.0.0");
  const Result<SignedImage> bad = d.verify(level(), 1);
  ASSERT_TRUE(bad.is_ok());
  EXPECT_EQ(memcmp(refused.app_elf_sha256, bad->info.desc.app_elf_sha256, kRejectedDigestSize), 0);
}

TEST_P(UpdateEngine, ATrialThatOnlyRanOutOfBootsIsNotRefused) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  for (uint32_t i = 0; i < kDefaultTrialBoots; ++i)
    ASSERT_EQ(d.boot(level())->outcome, BootOutcome::kTrial);
  expect_boot(d, BootOutcome::kRolledBack, 0, "1.0.0");
  AppDescriptor refused;
  EXPECT_FALSE(refused_image(d.view(level()), refused));
}

TEST_P(UpdateEngine, ASlotGivenUpOnIsNotBootedAgain) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(mark_app_invalid(d.slots(level()), 1).is_ok());
  expect_boot(d, BootOutcome::kRolledBack, 0, "1.0.0");
  // The old app gives up on itself too: before, the device went back to the app that had just failed.
  ASSERT_TRUE(mark_app_invalid(d.slots(level()), 0).is_ok());
  EXPECT_EQ(d.boot(level()).status().code(), Code::kNotFound);
}

TEST_P(UpdateEngine, ANewImageMakesARejectedSlotBootableAgain) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(mark_app_invalid(d.slots(level()), 1).is_ok());
  expect_boot(d, BootOutcome::kRolledBack, 0, "1.0.0");
  EXPECT_NE(d.view(level()).budget().rejected_slots & 2u, 0u);
  ASSERT_TRUE(d.update(level(), 0, signed_image(level(), "3.0.0", 3)).is_ok());
  EXPECT_EQ(d.view(level()).budget().rejected_slots & 2u, 0u);
  expect_boot(d, BootOutcome::kTrial, 1, "3.0.0");
}

TEST_P(UpdateEngine, MarkValidTwiceWritesOnce) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 0, 1).is_ok());  // raises the floor: one write
  const std::vector<uint8_t> after_first = d.flash().cells();
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 0, 1).is_ok());
  EXPECT_EQ(d.flash().cells(), after_first);
}

TEST_P(UpdateEngine, RefusesAnImageBelowTheFloor) {
  Device d;
  d.install(level(), 0, v2());
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 0, 2).is_ok());
  const Status downgrade = d.update(level(), 0, v1());
  EXPECT_EQ(downgrade.code(), Code::kRollback) << downgrade.reason();
  expect_boot(d, BootOutcome::kNormal, 0, "2.0.0");
}

TEST_P(UpdateEngine, RefusesTamperedImagesAndKeepsRunning) {
  Device d;
  d.install(level(), 0, v1());
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    uint32_t announce;
    Code expected;
  };
  std::vector<uint8_t> flipped = v2();
  flipped[700] ^= 1;
  std::vector<uint8_t> bad_sig = v2();
  bad_sig[bad_sig.size() - 4096 + 100] ^= 1;
  std::vector<uint8_t> truncated(v2().begin(), v2().end() - 4096);
  std::vector<uint8_t> trailing = v2();
  trailing.resize(trailing.size() + 4096, 0);
  const std::vector<uint8_t> other_level =
      signed_image(level() == AppLevel::kUser ? AppLevel::kProtected : AppLevel::kUser, "2.0.0", 2);
  const Case cases[] = {
      {"flipped payload", flipped, 0, Code::kBadChecksum},
      {"damaged signature sector", bad_sig, 0, Code::kBadChecksum},
      {"no signature sector", truncated, 0, Code::kTruncated},
      {"bytes after the signature", trailing, 0, Code::kTrailingData},
      {"more than announced", v2(), static_cast<uint32_t>(v2().size() - 4096), Code::kLimitExceeded},
      {"less than announced", v2(), static_cast<uint32_t>(v2().size() + 4096), Code::kTruncated},
      {"announced size not a signed size", v2(), 1000, Code::kBadLength},
      {"signed for the other level", other_level, 0,
       level() == AppLevel::kUser ? Code::kBadMagic : Code::kBadMagic},
  };
  for (const Case& c : cases) {
    const Status status = d.update(level(), 0, c.bytes, c.announce);
    EXPECT_EQ(status.code(), c.expected) << c.name << ": " << status.reason();
    expect_boot(d, BootOutcome::kNormal, 0, "1.0.0");
  }
}

TEST_P(UpdateEngine, ActivateNeedsAVerifiedImage) {
  Device d;
  d.install(level(), 0, v1());
  OtaWriter writer(d.slots(level()), 0);
  EXPECT_EQ(writer.activate().code(), Code::kBadState);
  ASSERT_TRUE(writer.begin(0).is_ok());
  ASSERT_TRUE(writer.write({v2().data(), 4096}).is_ok());
  writer.abort();
  EXPECT_EQ(writer.activate().code(), Code::kBadState);
  expect_boot(d, BootOutcome::kNormal, 0, "1.0.0");
}

TEST_P(UpdateEngine, NeverTouchesTheRunningSlot) {
  Device d;
  d.install(level(), 0, v1());
  const FlashRegion& running = d.slots(level()).slots[0];
  const std::vector<uint8_t> before(d.flash().cells().begin() + running.offset(),
                                    d.flash().cells().begin() + running.offset() + running.size());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), d.flash().cells().begin() + running.offset()));
}

TEST_P(UpdateEngine, ErasesOnlyWhatTheImageNeeds) {
  Device d;
  d.install(level(), 0, v1());
  host::TimedFlash timed(d.flash());
  d.attach(timed);
  const std::vector<uint8_t>& image = signed_image(level(), "3.0.0", 3, 150000);  // > two 64 KiB blocks
  ASSERT_TRUE(d.update(level(), 0, image, static_cast<uint32_t>(image.size())).is_ok());
  const host::FlashStats& s = timed.stats();
  // The image's own sectors plus one otadata sector; two aligned 64 KiB blocks as block erases.
  EXPECT_EQ(s.bytes_erased, image.size() + Flash::kSectorSize);
  EXPECT_EQ(s.block_erases, 2u);
  // Every program is one page or less, and the 0xFF padding before the signature is not programmed.
  EXPECT_EQ(s.pages_programmed, s.programs);
  EXPECT_LT(s.bytes_programmed, image.size());
}

TEST_P(UpdateEngine, ACorruptedSelectedImageFallsBackToTheOther) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  expect_boot(d, BootOutcome::kTrial, 1, "2.0.0");
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 1, 2).is_ok());
  // Bit rot in the running image: slot 1's payload.
  const uint8_t zero[1] = {0};
  ASSERT_TRUE(d.slots(level()).slots[1].program(600, zero).is_ok());
  // The other slot holds v1 (secure_version 1), now below the floor of 2: nothing may boot.
  EXPECT_EQ(d.boot(level()).status().code(), Code::kNotFound);
}

TEST_P(UpdateEngine, AFreshDeviceBootsTheFirstImageThatVerifies) {
  Device d;
  FlashRegion& slot1 = d.slots(level()).slots[1];
  ASSERT_TRUE(slot1.program(0, {v1().data(), v1().size()}).is_ok());
  expect_boot(d, BootOutcome::kFallback, 1, "1.0.0");
  ASSERT_TRUE(mark_app_valid(d.slots(level()), 1, 1).is_ok());
  expect_boot(d, BootOutcome::kNormal, 1, "1.0.0");
}

TEST_P(UpdateEngine, BothSelectSectorsDestroyedStillBoots) {
  Device d;
  d.install(level(), 0, v1());
  ASSERT_TRUE(d.update(level(), 0, v2()).is_ok());
  std::vector<uint8_t> noise(2 * Flash::kSectorSize, 0x5A);
  ASSERT_TRUE(d.slots(level()).select.program(0, {noise.data(), noise.size()}).is_ok());
  expect_boot(d, BootOutcome::kFallback, 0, "1.0.0");
}

TEST_P(UpdateEngine, NoBootableAppIsADefinedAnswer) {
  Device d;
  const Result<BootDecision> boot = d.boot(level());
  EXPECT_EQ(boot.status().code(), Code::kNotFound);
  EXPECT_NE(std::string(boot.status().reason()).find("no bootable app"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BothLevels, UpdateEngine, testing::Values(AppLevel::kProtected, AppLevel::kUser),
                         [](const auto& info) {
                           return info.param == AppLevel::kUser ? "User" : "Protected";
                         });

}  // namespace
}  // namespace privota
