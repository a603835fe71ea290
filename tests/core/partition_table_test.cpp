#include "privota/partition_table.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <cstring>
#include <random>
#include <vector>

#include "privota/host/mbedtls_digest.h"
#include "privota/host/memory_flash.h"

namespace privota {
namespace {

constexpr uint32_t k4MiB = 4 * 1024 * 1024;

Partition make(const char* name, PartitionType type, uint8_t subtype, uint32_t offset, uint32_t size) {
  Partition p;
  std::strncpy(p.name, name, kPartitionNameMax);
  p.type = static_cast<uint8_t>(type);
  p.subtype = subtype;
  p.offset = offset;
  p.size = size;
  return p;
}

// The default table (examples/device/partitions.csv) with the offsets gen_esp32part assigns.
PartitionTable seed_table() {
  PartitionTable t;
  EXPECT_TRUE(t.add(make("nvs", PartitionType::kData, data_subtype::kNvs, 0x9000, 0x6000)).is_ok());
  EXPECT_TRUE(t.add(make("phy_init", PartitionType::kData, data_subtype::kPhy, 0xF000, 0x1000)).is_ok());
  EXPECT_TRUE(t.add(make("otadata", PartitionType::kData, data_subtype::kOta, 0x10000, 0x2000)).is_ok());
  EXPECT_TRUE(t.add(make("uotadata", PartitionType::kData, data_subtype::kUserOta, 0x12000, 0x2000)).is_ok());
  EXPECT_TRUE(t.add(make("ota_0", PartitionType::kApp, 0x10, 0x20000, 1500 * 1024)).is_ok());
  EXPECT_TRUE(t.add(make("ota_1", PartitionType::kApp, 0x11, 0x1A0000, 1500 * 1024)).is_ok());
  EXPECT_TRUE(t.add(make("user_0", PartitionType::kApp, app_subtype::kUser0, 0x320000, 256 * 1024)).is_ok());
  EXPECT_TRUE(t.add(make("user_1", PartitionType::kApp, app_subtype::kUser1, 0x360000, 256 * 1024)).is_ok());
  return t;
}

std::vector<uint8_t> serialize(const PartitionTable& t) {
  host::MbedMd5 md5;
  std::vector<uint8_t> bytes(kPartitionTableMaxSize);
  EXPECT_TRUE(t.serialize({bytes.data(), bytes.size()}, md5).is_ok());
  return bytes;
}

Result<PartitionTable> parse(const std::vector<uint8_t>& bytes) {
  host::MbedMd5 md5;
  return PartitionTable::parse({bytes.data(), bytes.size()}, md5);
}

TEST(PartitionTable, RoundTripsThroughTheBinaryFormat) {
  const std::vector<uint8_t> bytes = serialize(seed_table());
  // First record: AA 50, data, nvs, offset 0x9000, size 0x6000, "nvs".
  const uint8_t first[] = {0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00,
                           0x00, 0x60, 0x00, 0x00, 'n',  'v',  's'};
  EXPECT_EQ(0, std::memcmp(bytes.data(), first, sizeof first));
  EXPECT_EQ(bytes[8 * 32], 0xEB);  // the MD5 record follows the eight entries
  EXPECT_EQ(bytes[8 * 32 + 2], 0xFF);
  EXPECT_EQ(bytes[9 * 32], 0xFF);

  const Result<PartitionTable> table = parse(bytes);
  ASSERT_TRUE(table.is_ok()) << table.status().reason();
  EXPECT_TRUE(table->has_md5());
  ASSERT_EQ(table->count(), 8u);
  EXPECT_TRUE(table->validate(k4MiB).is_ok());
  EXPECT_EQ(serialize(*table), bytes);
}

TEST(PartitionTable, FindsByTypeAndByName) {
  const PartitionTable t = seed_table();
  const Partition* uotadata = t.find(PartitionType::kData, data_subtype::kUserOta);
  ASSERT_NE(uotadata, nullptr);
  EXPECT_STREQ(uotadata->name, "uotadata");
  ASSERT_NE(t.find("user_1"), nullptr);
  EXPECT_EQ(t.find("user_1")->offset, 0x360000u);
  EXPECT_EQ(t.find(PartitionType::kApp, app_subtype::kFactory), nullptr);
  EXPECT_EQ(t.find("user_2"), nullptr);
}

TEST(PartitionTable, ReadsFromFlashAt0x8000) {
  host::MemoryFlash flash(k4MiB);
  const std::vector<uint8_t> bytes = serialize(seed_table());
  ASSERT_TRUE(flash.program(kPartitionTableOffset, {bytes.data(), bytes.size()}).is_ok());
  host::MbedMd5 md5;
  const Result<PartitionTable> table = PartitionTable::read(flash, md5);
  ASSERT_TRUE(table.is_ok());
  EXPECT_EQ(table->count(), 8u);
  // The same table on a 2 MiB flash does not fit.
  host::MemoryFlash small(2 * 1024 * 1024);
  ASSERT_TRUE(small.program(kPartitionTableOffset, {bytes.data(), bytes.size()}).is_ok());
  EXPECT_EQ(PartitionTable::read(small, md5).status().code(), Code::kOutOfBounds);
}

TEST(PartitionTable, AcceptsATableWithoutMd5) {
  std::vector<uint8_t> bytes = serialize(seed_table());
  std::fill(bytes.begin() + 8 * 32, bytes.begin() + 9 * 32, 0xFF);
  const Result<PartitionTable> table = parse(bytes);
  ASSERT_TRUE(table.is_ok());
  EXPECT_FALSE(table->has_md5());
}

struct HostileBinary {
  const char* name;
  void (*mutate)(std::vector<uint8_t>&);
  Code expected;
};

class PartitionTableRefusesBinary : public testing::TestWithParam<HostileBinary> {};

TEST_P(PartitionTableRefusesBinary, WithItsOwnReason) {
  std::vector<uint8_t> bytes = serialize(seed_table());
  GetParam().mutate(bytes);
  const Result<PartitionTable> table = parse(bytes);
  EXPECT_EQ(table.status().code(), GetParam().expected) << table.status().reason();
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, PartitionTableRefusesBinary,
    testing::Values(
        HostileBinary{"WrongMagic", [](auto& b) { b[32] = 0xAB; }, Code::kBadMagic},
        HostileBinary{"FlippedBitInEntry", [](auto& b) { b[5 * 32 + 4] ^= 0x01; }, Code::kBadHash},
        HostileBinary{"FlippedBitInMd5", [](auto& b) { b[8 * 32 + 20] ^= 0x80; }, Code::kBadHash},
        HostileBinary{"Md5FillerDamaged", [](auto& b) { b[8 * 32 + 5] = 0; }, Code::kBadMagic},
        HostileBinary{"EntryAfterMd5", [](auto& b) { std::copy_n(b.begin(), 32, b.begin() + 9 * 32); },
                      Code::kTrailingData},
        HostileBinary{"TruncatedMidRecord", [](auto& b) { b.resize(3 * 32 + 7); }, Code::kTruncated},
        HostileBinary{"TruncatedBeforeEnd", [](auto& b) { b.resize(9 * 32); }, Code::kTruncated},
        HostileBinary{"AllErased", [](auto& b) { std::fill(b.begin(), b.end(), 0xFF); }, Code::kNotFound},
        HostileBinary{"AllZero", [](auto& b) { std::fill(b.begin(), b.end(), 0x00); }, Code::kBadMagic},
        HostileBinary{"Empty", [](auto& b) { b.clear(); }, Code::kTruncated}),
    [](const auto& info) { return info.param.name; });

struct HostileLayout {
  const char* name;
  void (*mutate)(PartitionTable&);
  Code expected;
  uint32_t index;
};

class PartitionTableRefusesLayout : public testing::TestWithParam<HostileLayout> {};

TEST_P(PartitionTableRefusesLayout, NamingThePartition) {
  PartitionTable t = seed_table();
  GetParam().mutate(t);
  const Status status = t.validate(k4MiB);
  EXPECT_EQ(status.code(), GetParam().expected) << status.reason();
  EXPECT_EQ(status.detail(), GetParam().index) << status.reason();
}

// Rebuilds the seed table with one partition changed: tables are append-only, which is all the core needs.
template <typename F>
void rebuild(PartitionTable& t, F change) {
  PartitionTable out;
  for (size_t i = 0; i < t.count(); ++i) {
    Partition p = t[i];
    change(i, p);
    EXPECT_TRUE(out.add(p).is_ok());
  }
  t = out;
}

INSTANTIATE_TEST_SUITE_P(Hostile, PartitionTableRefusesLayout,
                         testing::Values(HostileLayout{"Overlap",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 5) p.offset = 0x100000;
                                                         });
                                                       },
                                                       Code::kOverlap, 5},
                                         HostileLayout{"AppNot64KAligned",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 6) p.offset = 0x321000;
                                                         });
                                                       },
                                                       Code::kMisaligned, 6},
                                         HostileLayout{"DataNot4KAligned",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 0) p.offset = 0x9100;
                                                         });
                                                       },
                                                       Code::kMisaligned, 0},
                                         HostileLayout{"OverTheTable",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 0) p.offset = 0x8000;
                                                         });
                                                       },
                                                       Code::kOverlap, 0},
                                         HostileLayout{"PastFlashEnd",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 7) p.size = 0x100000;
                                                         });
                                                       },
                                                       Code::kOutOfBounds, 7},
                                         HostileLayout{"SizeWrapsAround",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 7) p.size = 0xFFFF0000;
                                                         });
                                                       },
                                                       Code::kOutOfBounds, 7},
                                         HostileLayout{"ZeroSize",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 1) p.size = 0;
                                                         });
                                                       },
                                                       Code::kBadLength, 1},
                                         HostileLayout{"DuplicateName",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 7) std::strcpy(p.name, "user_0");
                                                         });
                                                       },
                                                       Code::kDuplicate, 7},
                                         HostileLayout{"OtadataWrongSize",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 2) p.size = 0x1000;
                                                         });
                                                       },
                                                       Code::kBadLength, 2},
                                         HostileLayout{"TwoUotadata",
                                                       [](auto& t) {
                                                         rebuild(t, [](size_t i, Partition& p) {
                                                           if (i == 2) p.subtype = data_subtype::kUserOta;
                                                         });
                                                       },
                                                       Code::kDuplicate, 3}),
                         [](const auto& info) { return info.param.name; });

TEST(PartitionTable, RefusesMoreEntriesThanTheTableHolds) {
  PartitionTable t;
  for (size_t i = 0; i < kMaxPartitions; ++i) {
    ASSERT_TRUE(
        t.add(make("p", PartitionType::kData, 0x99, static_cast<uint32_t>(0x9000 + i * 0x1000), 0x1000))
            .is_ok());
  }
  EXPECT_EQ(t.add(make("q", PartitionType::kData, 0x99, 0x100000, 0x1000)).code(), Code::kLimitExceeded);
}

TEST(PartitionTable, SurvivesRandomBytes) {
  std::mt19937 random(1234);
  std::vector<uint8_t> bytes(kPartitionTableMaxSize);
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : bytes)
      b = static_cast<uint8_t>(random());
    // Half the rounds start with a valid magic so the entry decoding runs on random fields.
    if (round % 2 == 0) {
      for (size_t at = 0; at < 4 * 32; at += 32) {
        bytes[at] = 0xAA;
        bytes[at + 1] = 0x50;
      }
    }
    const Result<PartitionTable> table = parse(bytes);
    if (table.is_ok()) (void)table->validate(k4MiB);  // must return, whatever it says
    EXPECT_FALSE(table.is_ok());                      // no random table carries a valid MD5
  }
}

}  // namespace
}  // namespace privota
