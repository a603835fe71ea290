#include "privota/host/timed_flash.h"

#include <gtest/gtest.h>

#include "privota/host/memory_flash.h"
#include "test_support.h"

namespace privota::host {
namespace {

TEST(TimedFlash, UsesBlockErasesForWholeAlignedBlocksOnly) {
  host::MemoryFlash ram(1024 * 1024);
  TimedFlash flash(ram);
  // 0x0F000 .. 0x31000: one sector before the block at 0x10000, two whole blocks, one sector after.
  ASSERT_TRUE(flash.erase(0x0F000, 0x22000).is_ok());
  EXPECT_EQ(flash.stats().block_erases, 2u);
  EXPECT_EQ(flash.stats().sector_erases, 2u);
  EXPECT_EQ(flash.stats().bytes_erased, 0x22000u);
  EXPECT_DOUBLE_EQ(flash.stats().device_us, 2 * 150'000.0 + 2 * 45'000.0);
}

TEST(TimedFlash, ChargesProgramsPerPageTouched) {
  host::MemoryFlash ram(64 * 1024);
  TimedFlash flash(ram);
  std::vector<uint8_t> data(256, 0);
  ASSERT_TRUE(flash.program(0, test::span_of(data)).is_ok());     // exactly one page
  ASSERT_TRUE(flash.program(1000, test::span_of(data)).is_ok());  // straddles two pages
  EXPECT_EQ(flash.stats().programs, 2u);
  EXPECT_EQ(flash.stats().pages_programmed, 3u);
  EXPECT_EQ(flash.stats().bytes_programmed, 512u);
  EXPECT_DOUBLE_EQ(flash.stats().device_us, 3 * 400.0);
}

TEST(TimedFlash, ChargesReadsPerByteAndCountsNothingThatFailed) {
  host::MemoryFlash ram(64 * 1024);
  TimedFlash flash(ram);
  std::vector<uint8_t> buf(40'000);
  ASSERT_TRUE(flash.read(0, {buf.data(), buf.size()}).is_ok());
  EXPECT_DOUBLE_EQ(flash.stats().device_us, 1000.0);  // 40 kB at 40 MB/s
  EXPECT_FALSE(flash.erase(1, 4096).is_ok());
  EXPECT_EQ(flash.stats().sector_erases, 0u);
  flash.reset_stats();
  EXPECT_EQ(flash.stats().reads, 0u);
}

}  // namespace
}  // namespace privota::host
