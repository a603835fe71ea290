// The budget record and its marks (ota_data.h, docs/formats.md): trial-boot and failed-boot marks counted in
// the active sector, carried (or reset) by selection writes, rejected slots and the refused image.
#include <gtest/gtest.h>

#include <cstring>

#include "privota/host/memory_flash.h"
#include "privota/ota_data.h"

namespace privota {
namespace {

OtaDataView view_of(Flash& flash) {
  return read_ota_data(flash).value();
}

TEST(OtaBudgetRecord, MarksCountInTheActiveSectorAndASelectionWriteStartsAfresh) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kPendingVerify).is_ok());
  EXPECT_EQ(view_of(flash).trial_marks_used(), 0u);
  ASSERT_TRUE(add_trial_mark(flash).is_ok());
  ASSERT_TRUE(add_trial_mark(flash).is_ok());
  EXPECT_EQ(view_of(flash).trial_marks_used(), 2u);
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kValid).is_ok());
  EXPECT_EQ(view_of(flash).trial_marks_used(), 0u);
  for (uint32_t i = 0; i < kTrialMarks; ++i)
    ASSERT_TRUE(add_trial_mark(flash).is_ok());
  EXPECT_EQ(add_trial_mark(flash).code(), Code::kLimitExceeded);
}

TEST(OtaBudgetRecord, FailedBootsAreCarriedUntilAConfirmationOrANewImage) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kValid).is_ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(add_failed_boot(flash, 2, 0, BootFailure::kCrashLoop).is_ok());
  SelectionChange rollback;
  rollback.slot = 1;
  rollback.state = OtaState::kValid;
  rollback.reject_slot = 0;
  ASSERT_TRUE(write_ota_selection(flash, 2, rollback).is_ok());
  OtaDataView v = view_of(flash);
  EXPECT_EQ(v.failed_boots(), 3u);
  EXPECT_EQ(v.last_failure(), BootFailure::kCrashLoop);
  EXPECT_EQ(v.budget().rejected_slots, 1u);
  // More failures than one sector has marks: the selection is rewritten and the count goes on.
  for (uint32_t i = 0; i < kFailedMarks + 5; ++i)
    ASSERT_TRUE(add_failed_boot(flash, 2, 1, BootFailure::kMarkedInvalid).is_ok());
  v = view_of(flash);
  EXPECT_EQ(v.failed_boots(), 3u + kFailedMarks + 5);
  EXPECT_EQ(v.last_failure(), BootFailure::kMarkedInvalid);
  EXPECT_EQ(v.active_slot(2), 1);
  EXPECT_EQ(v.budget().rejected_slots, 1u);
  // A new image in slot 0: the streak ends and slot 0 may boot again.
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kNew).is_ok());
  v = view_of(flash);
  EXPECT_EQ(v.failed_boots(), 0u);
  EXPECT_EQ(v.budget().rejected_slots, 0u);
}

TEST(OtaBudgetRecord, AFailedBootOnAFreshPartitionSelectsTheRunningSlotFirst) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(add_failed_boot(flash, 2, 1, BootFailure::kTrialFailed).is_ok());
  const OtaDataView v = view_of(flash);
  EXPECT_EQ(v.active_slot(2), 1);
  EXPECT_EQ(v.failed_boots(), 1u);
  EXPECT_EQ(v.last_failure(), BootFailure::kTrialFailed);
}

TEST(OtaBudgetRecord, TheRefusedImageSurvivesAnyNumberOfSelectionWrites) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  uint8_t sha[32];
  memset(sha, 0xAB, sizeof sha);
  SelectionChange rollback;
  rollback.slot = 0;
  rollback.state = OtaState::kValid;
  rollback.rejected_version = "2.0.0";
  rollback.rejected_elf_sha256 = sha;
  ASSERT_TRUE(write_ota_selection(flash, 2, rollback).is_ok());
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(write_ota_selection(flash, 2, 0, i == 3 ? OtaState::kNew : OtaState::kValid).is_ok());
  const BudgetRecord b = view_of(flash).budget();
  ASSERT_TRUE(b.have_rejected_image);
  EXPECT_STREQ(b.rejected_version, "2.0.0");
  EXPECT_EQ(memcmp(b.rejected_elf_sha256, sha, kRejectedDigestSize), 0);
}

TEST(OtaBudgetRecord, ADamagedRecordReadsAsNoBudget) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kValid).is_ok());
  ASSERT_TRUE(add_failed_boot(flash, 2, 0, BootFailure::kCrashLoop).is_ok());
  ASSERT_TRUE(write_ota_selection(flash, 2, 0, OtaState::kValid).is_ok());  // carries 1 into the record
  const OtaDataView before = view_of(flash);
  ASSERT_EQ(before.failed_boots(), 1u);
  const uint8_t flip = 0x00;  // clear bits of the carried count: the CRC no longer holds
  const uint32_t at = static_cast<uint32_t>(before.active) * Flash::kSectorSize + kBudgetRecordOffset + 4;
  ASSERT_TRUE(flash.program(at, {&flip, 1}).is_ok());
  EXPECT_EQ(view_of(flash).failed_boots(), 0u);
}

}  // namespace
}  // namespace privota
