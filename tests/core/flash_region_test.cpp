#include "privota/flash_region.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include "privota/host/memory_flash.h"

namespace privota {
namespace {

TEST(FlashRegion, AddressesFromItsOwnStart) {
  host::MemoryFlash flash(16 * Flash::kSectorSize);
  FlashRegion region(flash, 2 * Flash::kSectorSize, 4 * Flash::kSectorSize);
  ASSERT_TRUE(region.valid());
  const uint8_t data[3] = {1, 2, 3};
  ASSERT_TRUE(region.program(10, data).is_ok());
  EXPECT_EQ(flash.cells()[2 * Flash::kSectorSize + 10], 1);
  uint8_t back[3] = {};
  ASSERT_TRUE(region.read(10, back).is_ok());
  EXPECT_EQ(back[2], 3);
  ASSERT_TRUE(region.erase(0, Flash::kSectorSize).is_ok());
  EXPECT_EQ(flash.cells()[2 * Flash::kSectorSize + 10], 0xFF);
}

TEST(FlashRegion, RefusesEverythingOutsideTheWindow) {
  host::MemoryFlash flash(16 * Flash::kSectorSize);
  FlashRegion region(flash, Flash::kSectorSize, 2 * Flash::kSectorSize);
  uint8_t byte[1] = {0};
  struct Case {
    const char* what;
    Status status;
    Code expected;
  };
  const Case cases[] = {
      {"read at end", region.read(2 * Flash::kSectorSize, byte), Code::kOutOfBounds},
      {"program across end", region.program(2 * Flash::kSectorSize - 1, ConstByteSpan(byte, 2)),
       Code::kOutOfBounds},
      {"program far past end", region.program(0xFFFFFFFF, byte), Code::kOutOfBounds},
      {"erase past end", region.erase(Flash::kSectorSize, 2 * Flash::kSectorSize), Code::kOutOfBounds},
      {"erase misaligned start", region.erase(1, Flash::kSectorSize), Code::kMisaligned},
      {"erase misaligned length", region.erase(0, 100), Code::kMisaligned},
  };
  for (const Case& c : cases)
    EXPECT_EQ(c.status.code(), c.expected) << c.what;
  // Nothing outside the window changed.
  for (uint32_t i = 0; i < Flash::kSectorSize; ++i)
    ASSERT_EQ(flash.cells()[i], 0xFF);
}

TEST(FlashRegion, AWindowOutsideTheFlashIsInvalid) {
  host::MemoryFlash flash(4 * Flash::kSectorSize);
  uint8_t byte[1] = {0};
  FlashRegion past_end(flash, 2 * Flash::kSectorSize, 4 * Flash::kSectorSize);
  EXPECT_FALSE(past_end.valid());
  EXPECT_EQ(past_end.read(0, byte).code(), Code::kBadState);
  FlashRegion misaligned(flash, 100, Flash::kSectorSize);
  EXPECT_FALSE(misaligned.valid());
  EXPECT_FALSE(FlashRegion(flash, 0xFFFFF000, 0x2000).valid());  // offset + size overflows 32 bits
}

}  // namespace
}  // namespace privota
