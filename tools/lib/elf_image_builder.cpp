#include "elf_image_builder.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "privota/byte_order.h"
#include "privota/chip.h"
#include "privota/host/mbedtls_digest.h"

namespace privota::tools {
namespace {

// ELF32 facts (System V gABI; RISC-V psABI for EM_RISCV).
constexpr size_t kEhdrSize = 52, kPhdrSize = 32, kShdrSize = 40;
constexpr uint8_t kClass32 = 1, kData2Lsb = 1;
constexpr uint16_t kTypeExec = 2, kMachineRiscv = 243;
constexpr uint32_t kPtLoad = 1;
constexpr std::string_view kDescSection = ".rodata_desc";

struct LoadSegment {
  uint32_t vaddr = 0;
  uint32_t paddr = 0;
  std::vector<uint8_t> data;
};

struct Elf {
  uint32_t entry = 0;
  std::vector<LoadSegment> segments;
  uint32_t desc_addr = 0;  // virtual address of .rodata_desc
  uint32_t desc_size = 0;
  bool has_desc = false;
};

bool in_file(const std::vector<uint8_t>& elf, uint64_t offset, uint64_t size) {
  return offset <= elf.size() && size <= elf.size() - offset;
}

std::string read_segments(const std::vector<uint8_t>& elf, Elf& out) {
  const uint32_t phoff = load_le32(&elf[28]);
  const uint16_t phentsize = load_le16(&elf[42]);
  const uint16_t phnum = load_le16(&elf[44]);
  if (phentsize != kPhdrSize || !in_file(elf, phoff, uint64_t{phnum} * kPhdrSize))
    return "its program headers are missing or cut off";
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = &elf[phoff + i * kPhdrSize];
    const uint32_t offset = load_le32(ph + 4), filesz = load_le32(ph + 16);
    if (load_le32(ph) != kPtLoad || filesz == 0) continue;
    if (!in_file(elf, offset, filesz)) return fmt::format("loadable segment {} reaches past the file end", i);
    out.segments.push_back({load_le32(ph + 8), load_le32(ph + 12),
                            std::vector<uint8_t>(elf.begin() + offset, elf.begin() + offset + filesz)});
  }
  if (out.segments.empty()) return "it has no loadable segment with contents";
  if (out.segments.size() > kMaxSegments)
    return fmt::format("it has {} loadable segments; an app image holds at most {}", out.segments.size(),
                       kMaxSegments);
  std::sort(out.segments.begin(), out.segments.end(),
            [](const LoadSegment& a, const LoadSegment& b) { return a.paddr < b.paddr; });
  return {};
}

std::string find_desc_section(const std::vector<uint8_t>& elf, Elf& out) {
  const uint32_t shoff = load_le32(&elf[32]);
  const uint16_t shentsize = load_le16(&elf[46]);
  const uint16_t shnum = load_le16(&elf[48]);
  const uint16_t shstrndx = load_le16(&elf[50]);
  if (shnum == 0) return {};
  if (shentsize != kShdrSize || !in_file(elf, shoff, uint64_t{shnum} * kShdrSize) || shstrndx >= shnum)
    return "its section headers are missing or cut off";
  const uint8_t* strtab = &elf[shoff + shstrndx * kShdrSize];
  const uint32_t str_offset = load_le32(strtab + 16), str_size = load_le32(strtab + 20);
  if (!in_file(elf, str_offset, str_size)) return "its section name table is cut off";
  for (uint16_t i = 0; i < shnum; ++i) {
    const uint8_t* sh = &elf[shoff + i * kShdrSize];
    const uint32_t name = load_le32(sh);
    if (name >= str_size) continue;
    const char* text = reinterpret_cast<const char*>(&elf[str_offset + name]);
    if (std::string_view(text, strnlen(text, str_size - name)) != kDescSection) continue;
    out.has_desc = true;
    out.desc_addr = load_le32(sh + 12);
    out.desc_size = load_le32(sh + 20);
  }
  return {};
}

std::string parse_elf(const std::vector<uint8_t>& elf, Elf& out) {
  if (elf.size() < kEhdrSize || std::memcmp(elf.data(),
                                            "\x7f"
                                            "ELF",
                                            4) != 0)
    return "it is not an ELF file";
  if (elf[4] != kClass32 || elf[5] != kData2Lsb) return "it is not a 32-bit little-endian ELF";
  if (load_le16(&elf[16]) != kTypeExec) return "it is not an executable (ELF type EXEC)";
  if (load_le16(&elf[18]) != kMachineRiscv) return "it is not a RISC-V ELF";
  out.entry = load_le32(&elf[24]);
  if (std::string error = read_segments(elf, out); !error.empty()) return error;
  return find_desc_section(elf, out);
}

}  // namespace

BuiltImage build_elf_app_image(const ImageSpec& spec, const std::vector<uint8_t>& elf_bytes) {
  const auto chip = chip_by_id(static_cast<uint16_t>(spec.chip));
  if (!chip) return {{}, "unknown chip"};
  Elf elf;
  if (std::string error = parse_elf(elf_bytes, elf); !error.empty()) return {{}, "the ELF: " + error};
  if (!elf.has_desc || elf.desc_size != kAppDescSize) {
    return {
        {},
        fmt::format("the ELF has no {}-byte section {} for the app descriptor", kAppDescSize, kDescSection)};
  }
  LoadSegment& first = elf.segments.front();
  if (elf.desc_addr != first.vaddr || first.data.size() < kAppDescSize) {
    return {{},
            fmt::format("the ELF's {} does not start its first loadable segment (at 0x{:08x})", kDescSection,
                        first.paddr)};
  }
  host::MbedSha256 sha;
  uint8_t elf_digest[32];
  sha.update({elf_bytes.data(), elf_bytes.size()});
  sha.finish(elf_digest);
  if (std::string error = fill_app_descriptor(spec, elf_digest, first.data.data()); !error.empty())
    return {{}, error};

  std::vector<ImageSegment> segments;
  for (LoadSegment& segment : elf.segments)
    segments.push_back({segment.paddr, std::move(segment.data)});
  return {
      assemble_app_image(spec, spec.max_chip_rev_full.value_or(chip->max_chip_rev_full), elf.entry, segments),
      {}};
}

}  // namespace privota::tools
