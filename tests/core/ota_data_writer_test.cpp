#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "privota/host/memory_flash.h"
#include "privota/host/power_cut_flash.h"
#include "privota/ota_data.h"
#include "test_support.h"

namespace privota {
namespace {

constexpr uint32_t kSlots = 2;

OtaDataView view_of(Flash& flash) {
  const Result<OtaDataView> view = read_ota_data(flash);
  EXPECT_TRUE(view.is_ok()) << view.status().reason();
  return view.value();
}

TEST(OtaDataWriter, AlternatesSectorsWithIdfSequenceNumbers) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 0, OtaState::kValid).is_ok());
  OtaDataView v = view_of(flash);
  EXPECT_EQ(v.active, 0);
  EXPECT_EQ(v.entries[0].ota_seq, 1u);
  EXPECT_EQ(v.active_slot(kSlots), 0);

  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kNew).is_ok());
  v = view_of(flash);
  EXPECT_EQ(v.active, 1);
  EXPECT_EQ(v.entries[1].ota_seq, 2u);
  EXPECT_EQ(v.active_slot(kSlots), 1);
  EXPECT_EQ(v.active_state(), OtaState::kNew);
  EXPECT_EQ(v.entries[0].ota_seq, 1u);  // the previous selection is still there

  // Changing the state of the running slot: the next sequence that selects the same slot (2 + 2).
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kValid).is_ok());
  v = view_of(flash);
  EXPECT_EQ(v.active, 0);
  EXPECT_EQ(v.entries[0].ota_seq, 4u);
  EXPECT_EQ(v.active_slot(kSlots), 1);
  EXPECT_EQ(v.active_state(), OtaState::kValid);
}

TEST(OtaDataWriter, WorksForMoreThanTwoSlots) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, 3, 2, OtaState::kValid).is_ok());
  EXPECT_EQ(view_of(flash).active_slot(3), 2);
  ASSERT_TRUE(write_ota_selection(flash, 3, 1, OtaState::kValid).is_ok());  // 3 -> 5
  EXPECT_EQ(view_of(flash).entries[view_of(flash).active].ota_seq, 5u);
  EXPECT_EQ(view_of(flash).active_slot(3), 1);
}

TEST(OtaDataWriter, TheFloorOnlyRises) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 0, OtaState::kValid, 3).is_ok());
  EXPECT_EQ(view_of(flash).secure_version_floor(), 3u);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kNew).is_ok());  // carried forward
  EXPECT_EQ(view_of(flash).secure_version_floor(), 3u);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kValid, 2).is_ok());  // lower: ignored
  EXPECT_EQ(view_of(flash).secure_version_floor(), 3u);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kValid, 7).is_ok());
  EXPECT_EQ(view_of(flash).secure_version_floor(), 7u);
}

TEST(OtaDataWriter, RefusesSlotsOutsideThePartition) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  EXPECT_EQ(write_ota_selection(flash, kSlots, 2, OtaState::kNew).code(), Code::kInvalidArgument);
  EXPECT_EQ(write_ota_selection(flash, 0, 0, OtaState::kNew).code(), Code::kInvalidArgument);
}

TEST(OtaDataWriter, NeverTouchesTheActiveSector) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 0, OtaState::kValid).is_ok());
  const std::vector<uint8_t> active_sector(flash.cells().begin(), flash.cells().begin() + Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kNew).is_ok());
  EXPECT_TRUE(std::equal(active_sector.begin(), active_sector.end(), flash.cells().begin()));
}

// The anti-rollback raise (mark valid + floor) with power cut at every write it makes, under several
// random damage patterns: the floor is always the old or the new value, never lower, and the selection
// always names the same slot; doing it again afterwards succeeds.
TEST(OtaDataWriter, PowerCutWhileRaisingTheFloorLeavesOldOrNew) {
  host::MemoryFlash setup(2 * Flash::kSectorSize);
  ASSERT_TRUE(write_ota_selection(setup, kSlots, 0, OtaState::kValid, 2).is_ok());
  ASSERT_TRUE(write_ota_selection(setup, kSlots, 1, OtaState::kPendingVerify).is_ok());
  const std::vector<uint8_t> before = setup.cells();

  // Count the writes of the flow once.
  host::MemoryFlash counted(before);
  host::PowerCutFlash counter(counted, 0);
  ASSERT_TRUE(write_ota_selection(counter, kSlots, 1, OtaState::kValid, 5).is_ok());
  const uint64_t writes = counter.writes();
  ASSERT_EQ(writes, 4u);  // erase, floor record, budget record, entry

  int cuts = 0;
  for (uint64_t k = 1; k <= writes; ++k) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      host::MemoryFlash flash(before);
      host::PowerCutFlash cut(flash, k, seed);
      EXPECT_EQ(write_ota_selection(cut, kSlots, 1, OtaState::kValid, 5).code(), Code::kPowerLost);
      ++cuts;
      const OtaDataView after = view_of(flash);
      const uint32_t floor = after.secure_version_floor();
      EXPECT_TRUE(floor == 2 || floor == 5)
          << "cut at write " << k << " seed " << seed << ": floor " << floor;
      EXPECT_EQ(after.active_slot(kSlots), 1) << "cut at write " << k;
      ASSERT_TRUE(write_ota_selection(flash, kSlots, 1, OtaState::kValid, 5).is_ok());
      EXPECT_EQ(view_of(flash).secure_version_floor(), 5u);
      EXPECT_EQ(view_of(flash).active_state(), OtaState::kValid);
    }
  }
  std::printf("anti-rollback raise: %llu writes, %d power cuts checked\n",
              static_cast<unsigned long long>(writes), cuts);
}

}  // namespace
}  // namespace privota

namespace privota {
namespace {

// Found by fuzz_ota_data: an entry with ota_seq 0 and a valid CRC counted as active, and the next write
// (with a slot count that does not divide 2^32) selected the wrong slot.
TEST(OtaDataWriter, AnEntryWithSequenceZeroIsNotActive) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  OtaSelectEntry zero;
  zero.ota_seq = 0;
  zero.ota_state = static_cast<uint32_t>(OtaState::kValid);
  zero.crc = zero.expected_crc();
  uint8_t bytes[kOtaSelectEntrySize];
  zero.encode(bytes);
  ASSERT_TRUE(flash.program(0, bytes).is_ok());
  EXPECT_FALSE(zero.valid());
  EXPECT_EQ(view_of(flash).active, -1);
  ASSERT_TRUE(write_ota_selection(flash, 31, 7, OtaState::kNew).is_ok());
  EXPECT_EQ(view_of(flash).active_slot(31), 7);
}

}  // namespace
}  // namespace privota
