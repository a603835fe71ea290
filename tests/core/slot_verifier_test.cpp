// host::SlotVerifier, the one slot check of the bootloader, the protected app and the CLI, over a whole
// device flash in memory with real signed images (the core's update engine underneath, hence here).
#include "privota/host/slot_verifier.h"

#include <gtest/gtest.h>

#include "device_fixture.h"

namespace privota {
namespace {

using test::Device;
using test::signed_image;

class SlotVerifierTest : public testing::TestWithParam<AppLevel> {
 protected:
  AppLevel level() const { return GetParam(); }
  AppSlots& slots() { return d_.slots(level()); }

  Device d_;
  host::SlotVerifier verifier_;
};

TEST_P(SlotVerifierTest, VerifiesAgainstTheLevelsAntiRollbackFloor) {
  d_.install(level(), 0, signed_image(level(), "1.0.0", 3));
  const Result<SignedImage> ok = verifier_.verify(slots(), 0, d_.policy(level()));
  ASSERT_TRUE(ok.is_ok()) << ok.status().reason();
  EXPECT_STREQ(ok->info.desc.version, "1.0.0");
  // The caller's policy carries no floor: the verifier reads it from the select partition.
  ASSERT_TRUE(mark_app_valid(slots(), 0, 4).is_ok());
  const Result<SignedImage> below = verifier_.verify(slots(), 0, d_.policy(level()));
  EXPECT_EQ(below.status().code(), Code::kRollback) << below.status().reason();
}

TEST_P(SlotVerifierTest, RefusesWhatIsNotAVerifiedImageInASlot) {
  d_.install(level(), 0, signed_image(level(), "1.0.0", 1));
  EXPECT_EQ(verifier_.verify(slots(), 1, d_.policy(level())).status().code(), Code::kBadMagic);  // erased
  EXPECT_EQ(verifier_.verify(slots(), slots().slot_count, d_.policy(level())).status().code(),
            Code::kInvalidArgument);
  TrustPolicy other_chip = d_.policy(level());
  other_chip.limits.expected_chip = ChipId::kEsp32S3;
  EXPECT_EQ(verifier_.verify(slots(), 0, other_chip).status().code(), Code::kWrongChip);
}

TEST_P(SlotVerifierTest, SelectsTriesAndRollsBackLikeTheBootDecision) {
  d_.install(level(), 0, signed_image(level(), "1.0.0", 1));
  ASSERT_TRUE(d_.update(level(), 0, signed_image(level(), "2.0.0", 2)).is_ok());
  const Result<BootDecision> trial = verifier_.select(slots(), d_.policy(level()));
  ASSERT_TRUE(trial.is_ok()) << trial.status().reason();
  EXPECT_EQ(trial->outcome, BootOutcome::kTrial);
  EXPECT_EQ(trial->slot, 1u);
  // Not confirmed within its trial boots (each power-on without a report uses one): back to the previous app.
  for (uint32_t boot = 2; boot <= kDefaultTrialBoots; ++boot)
    ASSERT_EQ(verifier_.select(slots(), d_.policy(level()))->outcome, BootOutcome::kTrial);
  const Result<BootDecision> back = verifier_.select(slots(), d_.policy(level()));
  ASSERT_TRUE(back.is_ok()) << back.status().reason();
  EXPECT_EQ(back->outcome, BootOutcome::kRolledBack);
  EXPECT_EQ(back->slot, 0u);
  EXPECT_EQ(back->rejected_slot, 1);
}

INSTANTIATE_TEST_SUITE_P(BothLevels, SlotVerifierTest, testing::Values(AppLevel::kProtected, AppLevel::kUser),
                         [](const auto& info) {
                           return info.param == AppLevel::kUser ? "User" : "Protected";
                         });

}  // namespace
}  // namespace privota
