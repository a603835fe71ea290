#include "privota/crc32.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cstring>
#include <vector>

namespace privota {
namespace {

ConstByteSpan bytes_of(const char* text) {
  return {reinterpret_cast<const uint8_t*>(text), std::strlen(text)};
}

TEST(Crc32Le, MatchesZlibWhenSeededWithZero) {
  // The classic CRC-32 check value, and zlib.crc32(b"") == 0.
  EXPECT_EQ(crc32_le(0, bytes_of("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_le(0, bytes_of("")), 0u);
  EXPECT_EQ(crc32_le(0, bytes_of("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

TEST(Crc32Le, MatchesEspIdfOtadataEntries) {
  // ESP-IDF stores crc = esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4) in each otadata entry; these are the
  // values found in otadata written by IDF for sequences 1 and 2 (0x4743989A and 0x55F63774).
  const uint8_t seq1[4] = {1, 0, 0, 0};
  const uint8_t seq2[4] = {2, 0, 0, 0};
  EXPECT_EQ(crc32_le(UINT32_MAX, seq1), 0x4743989Au);
  EXPECT_EQ(crc32_le(UINT32_MAX, seq2), 0x55F63774u);
}

TEST(Crc32Le, ChainsLikeTheRomFunction) {
  const char* text = "privilege separated over-the-air update";
  const size_t n = std::strlen(text);
  for (size_t split = 0; split <= n; ++split) {
    const ConstByteSpan all = bytes_of(text);
    EXPECT_EQ(crc32_le(crc32_le(UINT32_MAX, all.first(split)), all.subspan(split)),
              crc32_le(UINT32_MAX, all));
  }
}

}  // namespace
}  // namespace privota
