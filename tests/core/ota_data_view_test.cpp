#include "privota/ota_data.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "privota/flash_region.h"
#include "privota/host/memory_flash.h"
#include "test_support.h"

namespace privota {
namespace {

void put_entry(host::MemoryFlash& flash, size_t sector, uint32_t seq, OtaState state, bool good_crc = true) {
  OtaSelectEntry e;
  e.ota_seq = seq;
  e.ota_state = static_cast<uint32_t>(state);
  e.crc = good_crc ? e.expected_crc() : e.expected_crc() ^ 1;
  uint8_t bytes[kOtaSelectEntrySize];
  e.encode(bytes);
  ASSERT_TRUE(flash.erase(static_cast<uint32_t>(sector * Flash::kSectorSize), Flash::kSectorSize).is_ok());
  ASSERT_TRUE(flash.program(static_cast<uint32_t>(sector * Flash::kSectorSize), bytes).is_ok());
}

Result<OtaDataView> read(host::MemoryFlash& flash) {
  return read_ota_data(flash);
}

TEST(OtaDataView, ErasedMeansNothingSelected) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  const Result<OtaDataView> view = read(flash);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->active, -1);
  EXPECT_EQ(view->active_slot(2), -1);
}

TEST(OtaDataView, HighestValidSequenceWins) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  put_entry(flash, 0, 4, OtaState::kValid);
  put_entry(flash, 1, 5, OtaState::kPendingVerify);
  const Result<OtaDataView> view = read(flash);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->active, 1);
  EXPECT_EQ(view->active_slot(2), 0);  // (5 - 1) % 2
  EXPECT_EQ(view->active_slot(3), 1);  // (5 - 1) % 3
  EXPECT_STREQ(ota_state_name(view->entries[1].ota_state), "pending_verify");
}

TEST(OtaDataView, AnEntrySelectsSlotSeqMinusOneModuloTheSlotCount) {
  struct Row {
    uint32_t seq, slot_count, slot;
  };
  // ESP-IDF's bootloader_utility: the active entry boots ota_[(seq - 1) % number of ota partitions].
  const Row rows[] = {
      {1, 2, 0},
      {2, 2, 1},
      {3, 2, 0},
      {8, 2, 1},
      {1, 3, 0},
      {3, 3, 2},
      {4, 3, 0},
      {17, 16, 0},
      {0xFFFFFFFE, 2, 1},
      // Nothing to select: no slots, a sequence of 0 (never written by us) or an erased one.
      {5, 0, OtaSelectEntry::kNoSlot},
      {0, 2, OtaSelectEntry::kNoSlot},
      {0xFFFFFFFF, 2, OtaSelectEntry::kNoSlot},
  };
  for (const Row& row : rows) {
    OtaSelectEntry e;
    e.ota_seq = row.seq;
    EXPECT_EQ(e.slot(row.slot_count), row.slot) << "seq " << row.seq << ", " << row.slot_count << " slots";
  }
}

TEST(OtaDataView, AnEntryWithABadCrcIsIgnored) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  put_entry(flash, 0, 1, OtaState::kValid);
  put_entry(flash, 1, 2, OtaState::kNew, /*good_crc=*/false);
  const Result<OtaDataView> view = read(flash);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->active, 0);
  EXPECT_FALSE(view->entries[1].valid());
}

TEST(OtaDataView, MatchesEspIdfBytes) {
  // ota_seq 1, label zero, state VALID, crc 0x4743989A: an entry as ESP-IDF writes it.
  const uint8_t bytes[kOtaSelectEntrySize] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0,    0,
                                              0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x9A, 0x98, 0x43, 0x47};
  const OtaSelectEntry e = OtaSelectEntry::decode(bytes);
  EXPECT_TRUE(e.valid());
  EXPECT_EQ(e.ota_state, static_cast<uint32_t>(OtaState::kValid));
  uint8_t back[kOtaSelectEntrySize];
  e.encode(back);
  EXPECT_EQ(0, std::memcmp(back, bytes, sizeof bytes));
}

TEST(OtaDataView, RefusesARegionTooSmall) {
  host::MemoryFlash flash(Flash::kSectorSize);
  EXPECT_EQ(read(flash).status().code(), Code::kBadLength);
}

TEST(OtaDataView, SurvivesRandomBytes) {
  std::mt19937 random(77);
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  for (int round = 0; round < 2000; ++round) {
    for (size_t s = 0; s < 2; ++s) {
      for (size_t i = 0; i < kOtaSelectEntrySize; ++i)
        flash.cells()[s * Flash::kSectorSize + i] = static_cast<uint8_t>(random());
    }
    const Result<OtaDataView> view = read(flash);
    ASSERT_TRUE(view.is_ok());
    if (view->active >= 0) {
      EXPECT_TRUE(view->entries[view->active].valid());
      EXPECT_LT(view->active_slot(2), 2);
    }
  }
}

}  // namespace
}  // namespace privota
