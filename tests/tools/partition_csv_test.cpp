#include "partition_csv.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "privota/host/mbedtls_digest.h"
#include "test_support.h"

namespace privota::tools {
namespace {

namespace fs = std::filesystem;

fs::path vector_dir() {
  return test::test_data("partition");
}

std::string read_text(const fs::path& path) {
  const std::vector<uint8_t> bytes = test::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<fs::path> vectors_with_extension(const std::string& extension) {
  std::vector<fs::path> paths;
  for (const fs::directory_entry& entry : fs::directory_iterator(vector_dir())) {
    if (entry.path().extension() == extension) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string first_difference(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "first difference at byte " + std::to_string(i);
  }
  return "identical";
}

// A golden binary NAME[_offset_0xN][_nomd5][.idf5].bin is gen_esp32part's output for NAME.csv (see the
// vectors' README.md): `_offset_0xN` = --offset, `_nomd5` = --disable-md5sum, `.idf5` = made by IDF 5.2.
// Where an .idf5 variant exists, the plain one shows IDF 4.4's 4-byte data alignment; every other vector is
// the same in both.
struct GoldenCase {
  fs::path csv;
  CsvOptions options;
  bool with_md5 = true;
};

GoldenCase golden_case(const fs::path& bin) {
  GoldenCase c;
  std::string stem = bin.stem().string();
  const bool idf5 = ends_with(stem, ".idf5");
  if (idf5) stem.resize(stem.size() - 5);
  if (ends_with(stem, "_nomd5")) {
    c.with_md5 = false;
    stem.resize(stem.size() - 6);
  }
  const size_t offset_at = stem.rfind("_offset_0x");
  if (offset_at != std::string::npos) {
    c.options.table_offset = static_cast<uint32_t>(std::stoul(stem.substr(offset_at + 8), nullptr, 16));
    stem.resize(offset_at);
  }
  if (!idf5 && fs::exists(vector_dir() / (stem + ".idf5.bin"))) c.options.data_alignment = 4;
  c.csv = vector_dir() / (stem + ".csv");
  return c;
}

// CSVs the tool accepts and we refuse on purpose: line and a piece of our message.
struct DeliberateRefusal {
  int line;
  const char* message;
};
const std::map<std::string, DeliberateRefusal> kDeliberateRefusals = {
    {"long_name.csv", {2, "is 17 bytes long"}},   // the tool cuts names to 16 bytes without a word
    {"empty.csv", {0, "defines no partitions"}},  // our bootloader cannot read a table without partitions
};

PartitionTable parse_ok(const std::string& text, const CsvOptions& options = {}) {
  auto result = parse_partition_csv(text, options);
  if (const auto* error = std::get_if<CsvError>(&result)) {
    ADD_FAILURE() << "refused: " << error->message;
    return PartitionTable();
  }
  return std::get<PartitionTable>(result);
}

PartitionTable parse_binary(const std::vector<uint8_t>& bytes) {
  host::MbedMd5 md5;
  Result<PartitionTable> table = PartitionTable::parse(test::span_of(bytes), md5);
  EXPECT_TRUE(table.is_ok()) << table.status().reason();
  return table.value();
}

TEST(PartitionCsvGolden, BinaryIsByteIdenticalToGenEsp32part) {
  size_t compared = 0;
  for (const fs::path& bin : vectors_with_extension(".bin")) {
    SCOPED_TRACE(bin.filename().string());
    const GoldenCase c = golden_case(bin);
    ASSERT_TRUE(fs::exists(c.csv)) << "no CSV for this vector; teach golden_case() its name";
    auto result = parse_partition_csv(read_text(c.csv), c.options);
    if (auto it = kDeliberateRefusals.find(c.csv.filename().string()); it != kDeliberateRefusals.end()) {
      const auto* error = std::get_if<CsvError>(&result);
      ASSERT_NE(error, nullptr) << "accepted, but we refuse this one on purpose";
      EXPECT_EQ(error->line, it->second.line);
      EXPECT_NE(error->message.find(it->second.message), std::string::npos) << error->message;
      continue;
    }
    const auto* table = std::get_if<PartitionTable>(&result);
    ASSERT_NE(table, nullptr) << std::get<CsvError>(result).message;
    const std::vector<uint8_t> want = test::read_file(bin);
    const std::vector<uint8_t> got = to_partition_binary(*table, c.with_md5);
    EXPECT_TRUE(got == want) << first_difference(got, want);
    ++compared;
  }
  EXPECT_GE(compared, 10u) << "golden vectors missing from " << vector_dir();
}

// The vectors' README: every accepted CSV also passes --flash-size 4MB, except custom_numeric.csv (ends at 6
// MB).
TEST(PartitionCsvGolden, FitsA4MiBFlashAndPassesTheCoreRules) {
  size_t checked = 0;
  for (const fs::path& bin : vectors_with_extension(".bin")) {
    SCOPED_TRACE(bin.filename().string());
    GoldenCase c = golden_case(bin);
    if (c.options.data_alignment != kDataPartitionAlign) continue;  // IDF 4.4 layout: the core refuses it
    if (kDeliberateRefusals.count(c.csv.filename().string()) != 0) continue;
    c.options.flash_size = 4 * 1024 * 1024;
    auto result = parse_partition_csv(read_text(c.csv), c.options);
    if (c.csv.filename() == "custom_numeric.csv") {
      ASSERT_TRUE(std::holds_alternative<CsvError>(result));
      EXPECT_NE(std::get<CsvError>(result).message.find("ends beyond the 0x400000-byte"), std::string::npos);
      continue;
    }
    const auto* table = std::get_if<PartitionTable>(&result);
    ASSERT_NE(table, nullptr) << std::get<CsvError>(result).message;
    EXPECT_TRUE(to_partition_binary(*table, c.with_md5) == test::read_file(bin));
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(PartitionCsvGolden, BinaryToCsvMatchesGenEsp32partAndRoundTrips) {
  size_t decoded = 0;
  for (const fs::path& bin : vectors_with_extension(".bin")) {
    SCOPED_TRACE(bin.filename().string());
    const std::vector<uint8_t> bytes = test::read_file(bin);
    if (bytes.size() >= 2 && bytes[0] == 0xEB && bytes[1] == 0xEB)
      continue;  // no partitions: nothing to decode
    const PartitionTable table = parse_binary(bytes);
    const std::string csv = to_partition_csv(table);
    const fs::path decoded_csv = vector_dir() / (bin.stem().string() + ".decoded.csv");
    if (fs::exists(decoded_csv)) {
      EXPECT_EQ(csv, read_text(decoded_csv));
      ++decoded;
    }
    const GoldenCase c = golden_case(bin);
    const PartitionTable again = parse_ok(csv, c.options);
    EXPECT_TRUE(to_partition_binary(again, table.has_md5()) == bytes);
  }
  EXPECT_GE(decoded, 10u);
}

TEST(PartitionCsv, SeedTableLaysOutLikeTheDesign) {
  const PartitionTable table = parse_ok(read_text(test::test_data("partition/seed.csv")));
  struct Want {
    const char* name;
    uint32_t offset, size;
  };
  const Want want[] = {{"nvs", 0x9000, 0x6000},         {"phy_init", 0xf000, 0x1000},
                       {"otadata", 0x10000, 0x2000},    {"uotadata", 0x12000, 0x2000},
                       {"ota_0", 0x20000, 1500 * 1024}, {"ota_1", 0x1a0000, 1500 * 1024},
                       {"user_0", 0x320000, 0x40000},   {"user_1", 0x360000, 0x40000}};
  ASSERT_EQ(table.count(), std::size(want));
  for (size_t i = 0; i < table.count(); ++i) {
    EXPECT_STREQ(table[i].name, want[i].name);
    EXPECT_EQ(table[i].offset, want[i].offset) << want[i].name;
    EXPECT_EQ(table[i].size, want[i].size) << want[i].name;
  }
  EXPECT_TRUE(table[3].is(PartitionType::kData, data_subtype::kUserOta));
  EXPECT_TRUE(table[6].is(PartitionType::kApp, app_subtype::kUser0));
}

TEST(PartitionCsv, ExpandsVariables) {
  CsvOptions options;
  options.lookup_variable = [](std::string_view name) -> std::optional<std::string> {
    if (name == "NVS_SIZE") return "0x6000";
    if (name == "APP") return "factory";
    return std::nullopt;
  };
  const PartitionTable table = parse_ok(
      "# sizes come from $UNSET_IN_COMMENT\nnvs, data, nvs, , $NVS_SIZE\n${APP}, app, factory, , 1M\n"
      "cost$, data, spiffs, , 4K\n",
      options);
  ASSERT_EQ(table.count(), 3u);
  EXPECT_EQ(table[0].size, 0x6000u);
  EXPECT_STREQ(table[1].name, "factory");
  EXPECT_STREQ(table[2].name, "cost$");  // a '$' without a name is text
}

TEST(PartitionCsv, ExpandsVariablesFromTheEnvironmentByDefault) {
  ASSERT_EQ(setenv("PRIVOTA_TEST_NVS_SIZE", "24K", 1), 0);
  const PartitionTable table = parse_ok("nvs, data, nvs, , $PRIVOTA_TEST_NVS_SIZE\n");
  unsetenv("PRIVOTA_TEST_NVS_SIZE");
  ASSERT_EQ(table.count(), 1u);
  EXPECT_EQ(table[0].size, 0x6000u);
}

TEST(PartitionCsv, ReportsGenEsp32partWarnings) {
  std::vector<CsvError> warnings;
  CsvOptions options;
  options.warnings = &warnings;
  options.data_alignment = 4;
  parse_ok(
      "nvs, data, spiffs, , 0x1000\nota_0, data, 0x80, , 0x800\napp, data, nvs, , 0x800\nfine, data, nvs, , "
      "4K\n",
      options);
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_EQ(warnings[0].line, 1);
  EXPECT_NE(warnings[0].message.find("named like the data subtype 'nvs' but is data/spiffs"),
            std::string::npos);
  EXPECT_EQ(warnings[1].line, 2);
  EXPECT_NE(warnings[1].message.find("named like the app subtype 'ota_0' but is data/esphttpd"),
            std::string::npos);
  EXPECT_EQ(warnings[2].line, 3);  // at 0xa800, mid-sector
  EXPECT_NE(warnings[2].message.find("at 0xa800 does not start on a 4 KiB sector"), std::string::npos);
  EXPECT_EQ(warnings[3].line, 3);
  EXPECT_NE(warnings[3].message.find("named like a type but is data/nvs"), std::string::npos);
}

TEST(PartitionCsv, ToCsvShowsFlagBitsItCannotExpress) {
  PartitionTable table;
  Partition p;
  p.type = 0x01;
  p.subtype = 0x02;
  p.offset = 0x9000;
  p.size = 0x6000;
  p.flags = partition_flag::kEncrypted | 0x10;
  std::strcpy(p.name, "nvs");
  ASSERT_TRUE(table.add(p).is_ok());
  EXPECT_EQ(to_partition_csv(table),
            "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, "
            "Flags\nnvs,data,nvs,0x9000,24K,encrypted\n"
            "# 'nvs' also has flag bits 0x00000010, which have no name and are lost in CSV\n");
}

TEST(PartitionCsv, BinaryIsATableSectorWithMd5) {
  const PartitionTable table = parse_ok("nvs, data, nvs, , 0x6000\n");
  const std::vector<uint8_t> bytes = to_partition_binary(table);
  ASSERT_EQ(bytes.size(), 0xC00u);
  EXPECT_EQ(bytes[0], 0xAA);
  EXPECT_EQ(bytes[1], 0x50);
  EXPECT_EQ(bytes[32], 0xEB);
  EXPECT_EQ(bytes[33], 0xEB);
  EXPECT_TRUE(std::all_of(bytes.begin() + 64, bytes.end(), [](uint8_t b) { return b == 0xFF; }));
  const std::vector<uint8_t> no_md5 = to_partition_binary(table, false);
  EXPECT_TRUE(std::all_of(no_md5.begin() + 32, no_md5.end(), [](uint8_t b) { return b == 0xFF; }));
}

// --- Refusals: one row each --------------------------------------------------------------------------------

struct RefusalCase {
  std::string name;
  std::string csv;
  int line;
  std::string message;  // a piece of the message
  std::optional<uint32_t> flash_size = std::nullopt;
  uint32_t table_offset = kPartitionTableOffset;
};

std::string many_partitions(int count) {
  std::string csv;
  for (int i = 0; i < count; ++i)
    csv += "p" + std::to_string(i) + ", data, 0x80, , 4K\n";
  return csv;
}

std::vector<RefusalCase> refusal_cases() {
  return {
      {"Overlap", "ota_0, app, ota_0, 0x10000, 0x177000\nota_1, app, ota_1, 0x110000, 1M\n", 2,
       "line 2: partition 'ota_1' at 0x110000 overlaps 'ota_0' (0x10000-0x186fff): move it to 0x187000 or "
       "later, or "
       "shrink 'ota_0'"},
      {"OutOfOrder", "factory, app, factory, 0x20000, 1M\nnvs, data, nvs, 0x9000, 0x6000\n", 2,
       "lies before it: list partitions in ascending offset order"},
      {"OverlapsTableSector", "nvs, data, nvs, 0x8000, 0x6000\n", 1,
       "overlaps the partition table's sector (0x8000-0x8fff): use offset 0x9000 or higher"},
      {"OverlapsMovedTableSector", "nvs, data, nvs, 0x10000, 0x6000\n", 1, "use offset 0x11000 or higher",
       std::nullopt, 0x10000},
      {"MissingSize", "nvs, data, nvs, , 0x6000\nfactory, app, factory, ,\n", 2,
       "partition 'factory' has no size"},
      {"UnknownFlag", "nvs, data, nvs, , 0x6000\nfactory, app, factory, , 1M, secure\n", 2,
       "unknown flag 'secure': known flags are encrypted, readonly"},
      {"FlagInWrongCase", "factory, app, factory, , 1M, Encrypted\n", 1, "unknown flag 'Encrypted'"},
      {"FlagWithBlank", "fat, data, fat, , 1M, encrypted : readonly\n", 1, "unknown flag 'encrypted '"},
      {"UnknownType", "nvs, data, nvs, , 0x6000\nfactory, application, factory, , 1M\n", 2,
       "unknown type 'application': use app, data or a number"},
      {"EmptyType", "nvs, , nvs, , 0x6000\n", 1, "partition 'nvs' has no type"},
      {"TypeOutOfRange", "big, 0x100, 0, , 4K\n", 1, "type 0x100, which does not fit in one byte"},
      {"UnknownSubtype", "nvs, data, nvs2, , 0x6000\n", 1,
       "unknown data subtype 'nvs2': use one of ota, phy, nvs"},
      {"UnknownAppSubtype", "factory, app, ota_16, , 1M\n", 1, "unknown app subtype 'ota_16'"},
      {"EmptyAppSubtype", "factory, app, , , 1M\n", 1, "app partition 'factory' has no subtype"},
      {"NamedSubtypeOfCustomType", "big, 0x40, nvs, , 4K\n", 1, "type 0x40 has no named subtypes"},
      {"SubtypeOutOfRange", "big, data, 256, , 4K\n", 1, "subtype 0x100, which does not fit"},
      {"DuplicateName", "nvs, data, nvs, , 0x6000\nfactory, app, factory, , 1M\nnvs, data, spiffs, , 64K\n",
       3, "partition name 'nvs' is already used on line 1"},
      {"TwoOtadata", "otadata, data, ota, , 0x2000\nphy, data, phy, , 4K\notadata2, data, ota, , 0x2000\n", 3,
       "'otadata2' is a second otadata (data/ota; the first is 'otadata' on line 1)"},
      {"TwoUotadata", "uotadata, data, user_ota, , 0x2000\nu2, data, user_ota, , 0x2000\n", 2,
       "'u2' is a second uotadata (data/user_ota;"},
      {"OtadataOf4K", "nvs, data, nvs, , 0x6000\notadata, data, ota, , 0x1000\n", 2,
       "otadata partition 'otadata' (data/ota) has size 0x1000: set it to exactly 0x2000"},
      {"UotadataOf12K", "uotadata, data, user_ota, , 0x3000\n", 1,
       "uotadata partition 'uotadata' (data/user_ota) has size 0x3000: set it to exactly 0x2000"},
      {"MisalignedAppOffset", "nvs, data, nvs, 0x9000, 0x6000\nfactory, app, factory, 0x18000, 1M\n", 2,
       "app partition 'factory' at 0x18000 is not aligned to 0x10000: use 0x20000"},
      {"MisalignedDataOffset", "nvs, data, nvs, 0x9000, 0x6000\nmisal, data, spiffs, 0xf800, 0x800\n", 2,
       "data partition 'misal' at 0xf800 is not aligned to 0x1000"},
      {"NameLongerThan16", "nvs, data, nvs, , 0x6000\nseventeen_chars__, data, spiffs, , 8K\n", 2,
       "partition name 'seventeen_chars__' is 17 bytes long: a name holds at most 16 bytes"},
      {"NinetyFivePartitions", many_partitions(95), 95, "a table holds at most 94 partitions"},
      {"NinetySixPartitions", many_partitions(96), 95, "partition 'p94' is number 95"},
      {"BeyondFlashSize",
       "nvs, data, nvs, , 0x6000\nfactory, app, factory, , 3M\nstorage, data, spiffs, , 1M\n", 3,
       "partition 'storage' (0x310000-0x40ffff) ends beyond the 0x400000-byte (4096 KiB) flash",
       4 * 1024 * 1024},
      {"GarbageHexOffset", "nvs, data, nvs, 0xZZ, 0x6000\n", 1, "invalid offset '0xZZ'"},
      {"GarbageSize", "nvs, data, nvs, , 12Q\n", 1, "invalid size '12Q'"},
      {"FractionalSize", "nvs, data, nvs, , 1.5M\n", 1, "invalid size '1.5M'"},
      {"OffsetPast4GiB", "nvs, data, nvs, 0x100000000, 4K\n", 1, "outside the 32-bit flash address space"},
      {"SizeZero", "nvs, data, nvs, , 0\n", 1, "has size 0"},
      {"EndBeforeStart", "storage, data, spiffs, 0x200000, -0x100000\n", 1,
       "ends at 0x100000, but it starts at 0x200000"},
      {"ReadonlyOtadata", "otadata, data, ota, , 0x2000, readonly\n", 1,
       "is data/ota, which the firmware always writes"},
      {"ReadonlyCoredump", "coredump, data, coredump, , 64K, readonly\n", 1, "remove the readonly flag"},
      {"UndefinedVariable", "nvs, data, nvs, , $PRIVOTA_UNDEFINED\n", 1,
       "unknown variable 'PRIVOTA_UNDEFINED'"},
      {"EmptyFile", "", 0, "defines no partitions"},
      {"OnlyComments", "# Name, Type, SubType, Offset, Size, Flags\n\n   \n", 0, "defines no partitions"},
      {"CoreRulesWithFlashSize", "nvs, data, nvs, , 0x6000\n", 1,
       "partition 'nvs' breaks the bootloader's layout rules: partition overlaps the bootloader",
       4 * 1024 * 1024, 0x0},
  };
}

class PartitionCsvRefusal : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(PartitionCsvRefusal, NamesTheLineAndWhatToDo) {
  const RefusalCase& c = GetParam();
  CsvOptions options;
  options.flash_size = c.flash_size;
  options.table_offset = c.table_offset;
  options.lookup_variable = [](std::string_view) { return std::nullopt; };
  auto result = parse_partition_csv(c.csv, options);
  const auto* error = std::get_if<CsvError>(&result);
  ASSERT_NE(error, nullptr) << "accepted";
  EXPECT_EQ(error->line, c.line) << error->message;
  EXPECT_NE(error->message.find(c.message), std::string::npos) << error->message;
  EXPECT_EQ(error->message.find('\n'), std::string::npos) << "one line";
  if (c.line > 0) {
    EXPECT_EQ(error->message.rfind("line " + std::to_string(c.line) + ": ", 0), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(GenEsp32partRules, PartitionCsvRefusal, ::testing::ValuesIn(refusal_cases()),
                         [](const ::testing::TestParamInfo<RefusalCase>& info) { return info.param.name; });

// --- Agreement with the tool's own verdicts (tests/data/partition/refusals.txt)
// -------------------------------

struct ToolVerdict {
  std::string command;
  bool refused = false;
  int line = 0;  // from "Error at line N" / "CSV Error at line N", 0 if the tool names none
};

// Our rules are IDF 5.2's where they differ from 4.4.3 (4 KiB data alignment, readonly), so v5.2 is the
// reference.
std::map<std::string, ToolVerdict> read_v52_verdicts() {
  std::map<std::string, ToolVerdict> verdicts;
  std::istringstream in(read_text(vector_dir() / "refusals.txt"));
  std::string line, file;
  bool in_v52 = false;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      file = line.substr(3);
      in_v52 = false;
    } else if (line.rfind("command: ", 0) == 0) {
      verdicts[file].command = line.substr(9);
    } else if (line.rfind("v", 0) == 0 && line.find(": ") != std::string::npos) {
      in_v52 = line.rfind("v5.2: ", 0) == 0;
      if (in_v52) verdicts[file].refused = line.find("ACCEPTED") == std::string::npos;
    } else if (in_v52 && line.rfind("    ", 0) == 0) {
      // "Error at line N: ..." and [5.1+] "CSV Error at line N: ..."
      const size_t at = line.find("Error at line ");
      if (at != std::string::npos && verdicts[file].line == 0)
        verdicts[file].line = std::stoi(line.substr(at + 14));
    }
  }
  return verdicts;
}

TEST(PartitionCsvGolden, RefusesWhatGenEsp32partRefuses) {
  const std::map<std::string, ToolVerdict> verdicts = read_v52_verdicts();
  size_t checked = 0;
  for (const fs::path& csv : vectors_with_extension(".csv")) {
    const std::string file = csv.filename().string();
    if (file.rfind("bad_", 0) != 0) continue;
    SCOPED_TRACE(file);
    auto it = verdicts.find(file);
    ASSERT_NE(it, verdicts.end()) << "not in refusals.txt";
    const ToolVerdict& tool = it->second;
    // --secure (app sizes 64 KiB aligned for Secure Boot v1) is not an option of ours.
    if (tool.command.find("--secure") != std::string::npos) continue;
    CsvOptions options;
    if (tool.command.find("--flash-size 4MB") != std::string::npos) options.flash_size = 4 * 1024 * 1024;
    options.lookup_variable = [](std::string_view) { return std::nullopt; };
    auto result = parse_partition_csv(read_text(csv), options);
    const auto* error = std::get_if<CsvError>(&result);
    EXPECT_EQ(error != nullptr, tool.refused) << (error ? error->message : "accepted");
    if (error != nullptr && tool.line != 0) {
      EXPECT_EQ(error->line, tool.line) << error->message;
    }
    ++checked;
  }
  EXPECT_GE(checked, 20u);
}

}  // namespace
}  // namespace privota::tools
