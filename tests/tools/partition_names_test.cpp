#include "partition_names.h"

#include <gtest/gtest.h>

#include "privota/partition_table.h"

namespace privota::tools {
namespace {

constexpr uint8_t kApp = 0x00;
constexpr uint8_t kData = 0x01;

TEST(PartitionNames, EveryNamedTypeRoundTrips) {
  ASSERT_EQ(partition_type_names().size(), 2u);
  for (const NamedValue& type : partition_type_names()) {
    EXPECT_EQ(partition_type_name(static_cast<uint8_t>(type.value)), type.name);
    EXPECT_EQ(parse_partition_type(type.name), type.value) << type.name;
  }
}

TEST(PartitionNames, EveryNamedSubtypeRoundTrips) {
  size_t named = 0;
  for (uint8_t type : {kApp, kData}) {
    for (const NamedValue& subtype : partition_subtype_names(type)) {
      EXPECT_EQ(partition_subtype_name(type, static_cast<uint8_t>(subtype.value)), subtype.name);
      EXPECT_EQ(parse_partition_subtype(type, subtype.name), subtype.value) << subtype.name;
      ++named;
    }
  }
  EXPECT_EQ(named, 20u + 12u);  // app: factory, test, ota_0..15, user_0/1; data: 11 of IDF 4.4 + littlefs
}

TEST(PartitionNames, KnowsPrivilegeSeparationSubtypes) {
  EXPECT_EQ(parse_partition_subtype(kData, "user_ota"), data_subtype::kUserOta);
  EXPECT_EQ(parse_partition_subtype(kApp, "user_0"), app_subtype::kUser0);
  EXPECT_EQ(parse_partition_subtype(kApp, "user_1"), app_subtype::kUser1);
  EXPECT_EQ(partition_subtype_name(kData, 0x50), "user_ota");
  EXPECT_EQ(partition_subtype_name(kApp, 0x41), "user_1");
  EXPECT_EQ(parse_partition_subtype(kApp, "user_2"), std::nullopt);
}

TEST(PartitionNames, FallsBackToHexNumbers) {
  EXPECT_EQ(partition_type_name(0x40), "0x40");
  EXPECT_EQ(partition_type_name(0x02), "0x02");
  EXPECT_EQ(partition_subtype_name(kData, 0x99), "0x99");
  EXPECT_EQ(partition_subtype_name(kApp, 0x05), "0x05");
  EXPECT_EQ(partition_subtype_name(0x40, 0x00), "0x00");  // custom types have no subtype names
  EXPECT_EQ(partition_subtype_name(kApp, 0x50), "0x50");  // user_ota is a data subtype only
}

TEST(PartitionNames, ParsesNamesCaseInsensitivelyAndNumbersInAnyBase) {
  EXPECT_EQ(parse_partition_type("DATA"), kData);
  EXPECT_EQ(parse_partition_type(" App "), kApp);
  EXPECT_EQ(parse_partition_type("0x40"), 0x40);
  EXPECT_EQ(parse_partition_type("64"), 64);
  EXPECT_EQ(parse_partition_type("0xff"), 0xff);
  EXPECT_EQ(parse_partition_type("0x100"), std::nullopt);
  EXPECT_EQ(parse_partition_type("-1"), std::nullopt);
  EXPECT_EQ(parse_partition_type("application"), std::nullopt);
  EXPECT_EQ(parse_partition_type(""), std::nullopt);
  EXPECT_EQ(parse_partition_subtype(kData, "NVS"), data_subtype::kNvs);
  EXPECT_EQ(parse_partition_subtype(kApp, "OTA_3"), 0x13);
  EXPECT_EQ(parse_partition_subtype(kData, "0x82"), data_subtype::kSpiffs);
  EXPECT_EQ(parse_partition_subtype(0x40, "nvs"), std::nullopt);
  EXPECT_EQ(parse_partition_subtype(0x40, "7"), 7);
}

TEST(PartitionNames, EmptySubtypeIsUndefinedExceptForApps) {
  EXPECT_EQ(parse_partition_subtype(kData, ""), data_subtype::kUndefined);
  EXPECT_EQ(parse_partition_subtype(0x41, ""), data_subtype::kUndefined);
  EXPECT_EQ(parse_partition_subtype(kApp, ""), std::nullopt);
}

struct IntCase {
  const char* text;
  std::optional<int64_t> value;
};

class PartitionInt : public ::testing::TestWithParam<IntCase> {};

TEST_P(PartitionInt, FollowsPythonIntWithSizeSuffixes) {
  EXPECT_EQ(parse_partition_int(GetParam().text), GetParam().value) << "'" << GetParam().text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    GenEsp32partSyntax, PartitionInt,
    ::testing::Values(IntCase{"0", 0}, IntCase{"00", 0}, IntCase{"4096", 4096}, IntCase{"0x1000", 0x1000},
                      IntCase{"0X1F", 0x1f}, IntCase{"0o17", 15}, IntCase{"0b101", 5}, IntCase{"1_024", 1024},
                      IntCase{"0x_10", 16}, IntCase{"24K", 24 * 1024}, IntCase{"24k", 24 * 1024},
                      IntCase{"1M", 0x100000}, IntCase{"1m", 0x100000}, IntCase{"0x10k", 0x4000},
                      IntCase{"1kk", 0x100000}, IntCase{"1 K", 1024}, IntCase{"-0x400000", -0x400000},
                      IntCase{"+5", 5}, IntCase{"  7  ", 7}, IntCase{"010", std::nullopt},
                      IntCase{"0xZZ", std::nullopt}, IntCase{"12Q", std::nullopt},
                      IntCase{"1.5M", std::nullopt}, IntCase{"0x9000x", std::nullopt},
                      IntCase{"1__0", std::nullopt}, IntCase{"1_", std::nullopt}, IntCase{"_1", std::nullopt},
                      IntCase{"0x", std::nullopt}, IntCase{"M", std::nullopt}, IntCase{"", std::nullopt},
                      IntCase{"- 5", std::nullopt}, IntCase{"0b102", std::nullopt},
                      IntCase{"99999999999999999999999", int64_t{1} << 53}));

TEST(PartitionNames, FormatsFlagsInBitOrder) {
  EXPECT_EQ(format_flags(0), "");
  EXPECT_EQ(format_flags(partition_flag::kEncrypted), "encrypted");
  EXPECT_EQ(format_flags(partition_flag::kReadOnly), "readonly");
  EXPECT_EQ(format_flags(partition_flag::kReadOnly | partition_flag::kEncrypted), "encrypted:readonly");
  EXPECT_EQ(format_flags(partition_flag::kEncrypted | 0x8), "encrypted:0x8");
  EXPECT_EQ(format_flags(0xF0), "0xf0");
}

TEST(PartitionNames, ParsesFlagNamesExactly) {
  EXPECT_EQ(parse_partition_flag("encrypted"), partition_flag::kEncrypted);
  EXPECT_EQ(parse_partition_flag("readonly"), partition_flag::kReadOnly);
  EXPECT_EQ(parse_partition_flag("Encrypted"), std::nullopt);  // the tool is case-sensitive here
  EXPECT_EQ(parse_partition_flag(" readonly"), std::nullopt);
  EXPECT_EQ(parse_partition_flag("secure"), std::nullopt);
}

}  // namespace
}  // namespace privota::tools
