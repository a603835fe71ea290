#include "privota/legacy_uotadata.h"

#include <gtest/gtest.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/host/memory_flash.h"
#include "privota/ota_data.h"
#include "test_support.h"

namespace privota {
namespace {

constexpr uint32_t kUotadataAt = 0x12000;

std::vector<uint8_t> legacy_record(uint8_t boot, uint8_t try_partition) {
  std::vector<uint8_t> r(16, 0);
  store_le32(r.data(), kLegacyUotadataMagic);
  r[4] = 1;
  r[5] = boot;
  r[6] = try_partition;
  store_le32(r.data() + 12, crc32_le(0, {r.data(), 12}));
  return r;
}

// A flash with the seed layout's uotadata and user slots, sized small: only what the tests touch.
struct Device {
  host::MemoryFlash flash{0x400000};
  AppSlots slots;
  Device() {
    slots.select = FlashRegion(flash, kUotadataAt, 0x2000);
    slots.slots[0] = FlashRegion(flash, 0x320000, 0x40000);
    slots.slots[1] = FlashRegion(flash, 0x360000, 0x40000);
    slots.slot_count = 2;
  }
  void put(uint32_t sector, const std::vector<uint8_t>& record) {
    EXPECT_TRUE(slots.select.program(sector * Flash::kSectorSize, {record.data(), record.size()}).is_ok());
  }
};

TEST(LegacyUotadata, BlankMeansNothing) {
  Device d;
  const Result<LegacySelection> s = read_legacy_uotadata(d.slots.select);
  ASSERT_TRUE(s.is_ok());
  EXPECT_FALSE(s->present);
  EXPECT_FALSE(*migrate_legacy_uotadata(d.slots));
}

TEST(LegacyUotadata, ReadsBootAndTryPartitions) {
  Device d;
  d.put(0, legacy_record(0x40, 0xFF));
  d.put(1, legacy_record(0x40, 0xFF));
  Result<LegacySelection> s = read_legacy_uotadata(d.slots.select);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->present);
  EXPECT_EQ(s->slot, 0u);
  EXPECT_FALSE(s->trial);

  Device t;
  t.put(0, legacy_record(0x40, 0x41));
  t.put(1, legacy_record(0x40, 0x41));
  s = read_legacy_uotadata(t.slots.select);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->slot, 1u);
  EXPECT_TRUE(s->trial);
}

TEST(LegacyUotadata, FallsBackToTheIntactSector) {
  Device d;
  std::vector<uint8_t> damaged = legacy_record(0x41, 0xFF);
  damaged[5] = 0x40;  // CRC no longer matches
  d.put(0, damaged);
  d.put(1, legacy_record(0x41, 0xFF));
  const Result<LegacySelection> s = read_legacy_uotadata(d.slots.select);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->slot, 1u);

  Device both;
  both.put(0, damaged);
  both.put(1, damaged);
  EXPECT_EQ(read_legacy_uotadata(both.slots.select).status().code(), Code::kBadChecksum);
}

TEST(LegacyUotadata, RefusesAPartitionThatIsNotAUserSlot) {
  Device d;
  d.put(0, legacy_record(0x10, 0xFF));
  d.put(1, legacy_record(0x10, 0xFF));
  EXPECT_EQ(read_legacy_uotadata(d.slots.select).status().code(), Code::kInvalidArgument);
}

TEST(LegacyUotadata, MigratesToIdfEntriesOnce) {
  Device d;
  d.put(0, legacy_record(0x40, 0x41));
  d.put(1, legacy_record(0x40, 0x41));
  ASSERT_TRUE(*migrate_legacy_uotadata(d.slots));
  const Result<OtaDataView> view = read_ota_data(d.slots.select);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->active_slot(2), 1);
  EXPECT_EQ(view->active_state(), OtaState::kNew);
  EXPECT_FALSE(*migrate_legacy_uotadata(d.slots));  // already ours
}

TEST(LegacyUotadata, IsNeverMistakenForAnIdfEntry) {
  Device d;
  d.put(0, legacy_record(0x41, 0xFF));
  d.put(1, legacy_record(0x41, 0xFF));
  const Result<OtaDataView> view = read_ota_data(d.slots.select);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->active, -1);
}

}  // namespace
}  // namespace privota
