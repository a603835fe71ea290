// privota image build --elf: an ELF's loadable segments become the image's segments at their load
// addresses (esptool elf2image semantics), the app descriptor is filled into .rodata_desc, and an ELF the
// device could not boot is refused with the reason.
#include "elf_image_builder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>

#include "privota/byte_order.h"
#include "privota/host/mbedtls_digest.h"
#include "test_elf.h"
#include "test_support.h"

namespace privota {
namespace {

constexpr uint32_t kBase = test::kElfBase;
constexpr uint32_t kEntry = test::kElfEntry;
using test::TestElf;

tools::ImageSpec spec() {
  tools::ImageSpec s;
  s.version = "1.2.3";
  s.project_name = "firmware";
  s.secure_version = 4;
  s.chip = ChipId::kQemuRv32;
  s.time = "12:00:00";
  s.date = "Jan  1 2026";
  return s;
}

AppImageInfo validate(const std::vector<uint8_t>& image) {
  host::MbedSha256 sha;
  AppImageLimits limits;
  limits.expected_chip = ChipId::kQemuRv32;
  AppImageValidator validator(sha, limits);
  const Result<size_t> used = validator.update({image.data(), image.size()});
  EXPECT_TRUE(used.is_ok()) << used.status().reason();
  const Result<AppImageInfo> info = validator.info();
  EXPECT_TRUE(info.is_ok()) << info.status().reason();
  EXPECT_EQ(info->image_size, image.size());
  return info.value();
}

TEST(ElfImageBuilder, SegmentsAreTheElfsLoadableSegmentsAtTheirLoadAddresses) {
  const TestElf elf;
  const tools::BuiltImage built = tools::build_elf_app_image(spec(), elf.bytes);
  ASSERT_EQ(built.error, "");
  const AppImageInfo info = validate(built.bytes);
  EXPECT_EQ(info.entry_addr, kEntry);
  EXPECT_EQ(info.chip_id, static_cast<uint16_t>(ChipId::kQemuRv32));
  ASSERT_EQ(info.segment_count, 2);  // the .bss-only segment carries no bytes
  EXPECT_EQ(info.segments[0].load_addr, kBase);
  EXPECT_EQ(info.segments[0].data_len, 264u);
  EXPECT_EQ(info.segments[1].load_addr, kBase + 0x400);
  EXPECT_EQ(info.segments[1].data_len, 8u);  // 6 bytes padded to a multiple of 4
  // Past the descriptor the first segment is the ELF's bytes; the second too, zero padded.
  const uint8_t* first = &built.bytes[info.segments[0].data_offset];
  for (uint32_t i = 256; i < 264; ++i)
    EXPECT_EQ(first[i], static_cast<uint8_t>(i));
  EXPECT_EQ(0, std::memcmp(&built.bytes[info.segments[1].data_offset], "\x11\x22\x33\x44\x55\x66\0\0", 8));
}

TEST(ElfImageBuilder, FillsTheDescriptorInRodataDesc) {
  const TestElf elf;
  const tools::BuiltImage built = tools::build_elf_app_image(spec(), elf.bytes);
  ASSERT_EQ(built.error, "");
  const AppImageInfo info = validate(built.bytes);
  EXPECT_STREQ(info.desc.version, "1.2.3");
  EXPECT_STREQ(info.desc.project_name, "firmware");
  EXPECT_EQ(info.desc.secure_version, 4u);
  uint8_t elf_digest[32];
  host::MbedSha256 sha;
  sha.update(test::span_of(elf.bytes));
  sha.finish(elf_digest);
  EXPECT_EQ(0, std::memcmp(info.desc.app_elf_sha256, elf_digest, 32));
}

struct Refusal {
  const char* name;
  std::function<void(TestElf&)> damage;
  const char* reason;
};

class ElfImageBuilderRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(ElfImageBuilderRefuses, WithTheReason) {
  TestElf elf;
  GetParam().damage(elf);
  const tools::BuiltImage built = tools::build_elf_app_image(spec(), elf.bytes);
  EXPECT_TRUE(built.bytes.empty());
  EXPECT_NE(built.error.find(GetParam().reason), std::string::npos) << built.error;
}

INSTANTIATE_TEST_SUITE_P(
    BadElfs, ElfImageBuilderRefuses,
    testing::Values(
        Refusal{"NotElf", [](TestElf& e) { e.bytes[1] = 'X'; }, "not an ELF file"},
        Refusal{"Elf64", [](TestElf& e) { e.bytes[4] = 2; }, "not a 32-bit little-endian ELF"},
        Refusal{"BigEndian", [](TestElf& e) { e.bytes[5] = 2; }, "not a 32-bit little-endian ELF"},
        Refusal{"X86", [](TestElf& e) { store_le16(&e.bytes[18], 62); }, "not a RISC-V ELF"},
        Refusal{"Relocatable", [](TestElf& e) { store_le16(&e.bytes[16], 1); }, "not an executable"},
        Refusal{"Truncated", [](TestElf& e) { e.bytes.resize(0x200); }, "reaches past the file end"},
        Refusal{"NoContents",
                [](TestElf& e) {
                  e.program_header(0, 0, kBase + 0x400, 0, 8);
                  e.program_header(1, 0, kBase, 0, 8);
                },
                "no loadable segment with contents"},
        Refusal{"NoDescriptor", [](TestElf& e) { e.bytes[0x401] = 'x'; }, "no 256-byte section .rodata_desc"},
        Refusal{"ShortDescriptor", [](TestElf& e) { e.section_header(1, 1, kBase, 0x100, 128); },
                "no 256-byte section .rodata_desc"},
        Refusal{"DescriptorNotFirst", [](TestElf& e) { e.section_header(1, 1, kBase + 4, 0x104, 256); },
                "does not start its first loadable segment"},
        Refusal{"TooManySegments",
                [](TestElf& e) {
                  store_le16(&e.bytes[44], 17);
                  for (uint32_t i = 2; i < 17; ++i)
                    e.program_header(i, 0x300, kBase + 0x400 + 16 * i, 4, 4);
                },
                "at most 16"}),
    [](const testing::TestParamInfo<Refusal>& info) { return info.param.name; });

}  // namespace
}  // namespace privota
