#include "privota/host/file_flash.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "privota/flash_region.h"
#include "test_support.h"

namespace privota::host {
namespace {

constexpr uint32_t kSize = 16 * Flash::kSectorSize;

TEST(FileFlash, StartsErased) {
  test::TempDir dir;
  auto flash = FileFlash::create(dir / "flash.bin", kSize);
  ASSERT_TRUE(flash.is_ok());
  EXPECT_EQ(std::filesystem::file_size(dir / "flash.bin"), kSize);
  for (uint8_t b : test::read_file(dir / "flash.bin"))
    ASSERT_EQ(b, 0xFF);
}

// An exclusive section (the core holds one around every select-partition write) ends with Flash::release();
// the file stays mapped and usable after it, through the flash and through a region of it.
TEST(FileFlash, StaysUsableAfterAnExclusiveSection) {
  test::TempDir dir;
  auto flash = FileFlash::create(dir / "flash.bin", kSize);
  ASSERT_TRUE(flash.is_ok());
  { const ExclusiveFlash hold(flash.value()); }
  FlashRegion region(flash.value(), 0, kSize);
  { const ExclusiveFlash hold(region); }
  const uint8_t data[2] = {0x12, 0x34};
  ASSERT_TRUE(flash->program(200, data).is_ok());
  uint8_t back[2] = {};
  ASSERT_TRUE(region.read(200, back).is_ok());
  EXPECT_EQ(back[0], 0x12);
  EXPECT_EQ(back[1], 0x34);
}

TEST(FileFlash, ProgramOverUnerasedBytesOnlyClearsBits) {
  test::TempDir dir;
  auto flash = FileFlash::create(dir / "flash.bin", kSize);
  ASSERT_TRUE(flash.is_ok());
  const uint8_t first[2] = {0xF0, 0x3C};
  const uint8_t second[2] = {0x0F, 0xFF};
  ASSERT_TRUE(flash->program(100, first).is_ok());
  ASSERT_TRUE(flash->program(100, second).is_ok());
  uint8_t back[2] = {};
  ASSERT_TRUE(flash->read(100, back).is_ok());
  EXPECT_EQ(back[0], 0x00);  // F0 & 0F
  EXPECT_EQ(back[1], 0x3C);  // writing FF over 3C sets nothing
}

TEST(FileFlash, EraseSetsWholeSectorsTo0xFF) {
  test::TempDir dir;
  auto flash = FileFlash::create(dir / "flash.bin", kSize);
  ASSERT_TRUE(flash.is_ok());
  std::vector<uint8_t> zeros(3 * Flash::kSectorSize, 0);
  ASSERT_TRUE(flash->program(0, test::span_of(zeros)).is_ok());
  ASSERT_TRUE(flash->erase(Flash::kSectorSize, Flash::kSectorSize).is_ok());
  const std::vector<uint8_t> cells = test::read_file(dir / "flash.bin");
  EXPECT_EQ(cells[Flash::kSectorSize - 1], 0x00);
  EXPECT_EQ(cells[Flash::kSectorSize], 0xFF);
  EXPECT_EQ(cells[2 * Flash::kSectorSize - 1], 0xFF);
  EXPECT_EQ(cells[2 * Flash::kSectorSize], 0x00);
}

TEST(FileFlash, StrictModeRefusesToSetBits) {
  test::TempDir dir;
  FileFlash::Options strict;
  strict.refuse_setting_bits = true;
  auto flash = FileFlash::create(dir / "flash.bin", kSize, strict);
  ASSERT_TRUE(flash.is_ok());
  const uint8_t a[1] = {0x0F};
  const uint8_t b[1] = {0x1F};
  const uint8_t c[1] = {0x07};
  ASSERT_TRUE(flash->program(0, a).is_ok());
  EXPECT_EQ(flash->program(0, b).code(), Code::kBadState);
  EXPECT_TRUE(flash->program(0, c).is_ok());  // only clears bits: fine
}

TEST(FileFlash, RefusesBadRequests) {
  test::TempDir dir;
  auto flash = FileFlash::create(dir / "flash.bin", kSize);
  ASSERT_TRUE(flash.is_ok());
  uint8_t byte[1] = {0};
  EXPECT_EQ(flash->read(kSize, byte).code(), Code::kOutOfBounds);
  EXPECT_EQ(flash->program(kSize - 1, ConstByteSpan(byte, 2)).code(), Code::kOutOfBounds);
  EXPECT_EQ(flash->erase(kSize, Flash::kSectorSize).code(), Code::kOutOfBounds);
  EXPECT_EQ(flash->erase(512, Flash::kSectorSize).code(), Code::kMisaligned);
  EXPECT_EQ(flash->erase(0, 512).code(), Code::kMisaligned);
  EXPECT_EQ(FileFlash::create(dir / "odd.bin", 5000).status().code(), Code::kMisaligned);
}

TEST(FileFlash, OpensExistingFilesAndPersists) {
  test::TempDir dir;
  {
    auto flash = FileFlash::create(dir / "flash.bin", kSize);
    ASSERT_TRUE(flash.is_ok());
    const uint8_t data[3] = {1, 2, 3};
    ASSERT_TRUE(flash->program(4096, data).is_ok());
  }
  auto flash = FileFlash::open(dir / "flash.bin");
  ASSERT_TRUE(flash.is_ok());
  EXPECT_EQ(flash->size(), kSize);
  uint8_t back[3] = {};
  ASSERT_TRUE(flash->read(4096, back).is_ok());
  EXPECT_EQ(back[2], 3);

  EXPECT_EQ(FileFlash::open(dir / "missing.bin").status().code(), Code::kNotFound);
  test::write_text(dir / "short.bin", "not a flash");
  EXPECT_EQ(FileFlash::open(dir / "short.bin").status().code(), Code::kMisaligned);
}

TEST(FileFlash, ReadOnlyRefusesWrites) {
  test::TempDir dir;
  ASSERT_TRUE(FileFlash::create(dir / "flash.bin", kSize).is_ok());
  FileFlash::Options options;
  options.read_only = true;
  auto flash = FileFlash::open(dir / "flash.bin", options);
  ASSERT_TRUE(flash.is_ok());
  const uint8_t data[1] = {0};
  EXPECT_EQ(flash->program(0, data).code(), Code::kBadState);
  EXPECT_EQ(flash->erase(0, Flash::kSectorSize).code(), Code::kBadState);
}

}  // namespace
}  // namespace privota::host
