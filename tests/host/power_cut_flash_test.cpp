#include "privota/host/power_cut_flash.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "privota/host/memory_flash.h"
#include "test_support.h"

namespace privota::host {
namespace {

constexpr uint32_t kSize = 16 * Flash::kSectorSize;

TEST(PowerCutFlash, CountsOnlyWrites) {
  host::MemoryFlash ram(kSize);
  PowerCutFlash flash(ram, 0);
  uint8_t buf[16] = {};
  ASSERT_TRUE(flash.read(0, buf).is_ok());
  ASSERT_TRUE(flash.program(0, buf).is_ok());
  ASSERT_TRUE(flash.erase(0, Flash::kSectorSize).is_ok());
  EXPECT_EQ(flash.writes(), 2u);
  EXPECT_FALSE(flash.power_lost());
}

TEST(PowerCutFlash, LeavesAnInterruptedProgramHalfDone) {
  int half_written = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    host::MemoryFlash ram(kSize);
    PowerCutFlash flash(ram, 2, seed);
    std::vector<uint8_t> zeros(1000, 0x00);
    ASSERT_TRUE(flash.program(0, test::span_of(zeros)).is_ok());   // write 1 completes
    const Status cut = flash.program(4096, test::span_of(zeros));  // write 2 is cut
    EXPECT_EQ(cut.code(), Code::kPowerLost);
    EXPECT_TRUE(flash.power_lost());
    // The first write is intact; the second is a prefix of zeros, then one partly programmed byte, then 0xFF.
    EXPECT_TRUE(
        std::all_of(ram.cells().begin(), ram.cells().begin() + 1000, [](uint8_t b) { return b == 0; }));
    const auto begin = ram.cells().begin() + 4096;
    const auto first_unprogrammed = std::find_if(begin, begin + 1000, [](uint8_t b) { return b != 0; });
    ASSERT_NE(first_unprogrammed, begin + 1000) << "the cut write must not complete";
    EXPECT_TRUE(std::all_of(first_unprogrammed + 1, begin + 1000, [](uint8_t b) { return b == 0xFF; }));
    if (first_unprogrammed != begin) ++half_written;
  }
  EXPECT_GT(half_written, 40);  // cut points are spread over the write
}

TEST(PowerCutFlash, LeavesAnInterruptedEraseWithRandomBits) {
  host::MemoryFlash ram(kSize);
  std::fill(ram.cells().begin(), ram.cells().end(), 0x00);
  PowerCutFlash flash(ram, 1, 3);
  EXPECT_EQ(flash.erase(0, 8 * Flash::kSectorSize).code(), Code::kPowerLost);
  // Some sectors erased, one sector neither erased nor intact, the rest untouched.
  int erased = 0;
  int noisy = 0;
  int untouched = 0;
  for (uint32_t s = 0; s < 8; ++s) {
    const auto first = ram.cells().begin() + s * Flash::kSectorSize;
    const auto last = first + Flash::kSectorSize;
    if (std::all_of(first, last, [](uint8_t b) { return b == 0xFF; })) {
      ++erased;
    } else if (std::all_of(first, last, [](uint8_t b) { return b == 0x00; })) {
      ++untouched;
    } else {
      ++noisy;
    }
  }
  EXPECT_EQ(noisy, 1);
  EXPECT_EQ(erased + untouched, 7);
  for (uint32_t s = 8; s < 16; ++s)
    EXPECT_EQ(ram.cells()[s * Flash::kSectorSize], 0x00);
}

TEST(PowerCutFlash, FailsEveryCallAfterTheCut) {
  host::MemoryFlash ram(kSize);
  PowerCutFlash flash(ram, 1);
  int hook_calls = 0;
  flash.on_power_cut([&] { ++hook_calls; });
  uint8_t buf[4] = {};
  EXPECT_EQ(flash.program(0, buf).code(), Code::kPowerLost);
  EXPECT_EQ(flash.read(0, buf).code(), Code::kPowerLost);
  EXPECT_EQ(flash.program(8, buf).code(), Code::kPowerLost);
  EXPECT_EQ(flash.erase(0, Flash::kSectorSize).code(), Code::kPowerLost);
  EXPECT_EQ(hook_calls, 1);
}

TEST(PowerCutFlash, InvalidRequestsFailWithoutCountingOrCutting) {
  host::MemoryFlash ram(kSize);
  PowerCutFlash flash(ram, 1);
  EXPECT_EQ(flash.erase(100, Flash::kSectorSize).code(), Code::kMisaligned);
  EXPECT_FALSE(flash.power_lost());
  EXPECT_EQ(flash.writes(), 0u);
}

}  // namespace
}  // namespace privota::host
