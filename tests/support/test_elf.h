// A small rv32 executable written byte by byte, for the tests of `privota image build --elf` (and the docs
// test, which needs a firmware.elf without the rv32 toolchain).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "privota/byte_order.h"

namespace privota::test {

inline constexpr uint32_t kElfBase = 0x80100000;
inline constexpr uint32_t kElfEntry = 0x80100100;

// A small rv32 executable written byte by byte: two loadable segments (stored out of address order), one
// PT_LOAD without file bytes (.bss), and the section headers naming .rodata_desc.
struct TestElf {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(0x600, 0);
  uint32_t phnum = 3;

  TestElf() {
    std::memcpy(bytes.data(),
                "\x7f"
                "ELF",
                4);
    bytes[4] = 1;  // ELFCLASS32
    bytes[5] = 1;  // little-endian
    bytes[6] = 1;
    store_le16(&bytes[16], 2);    // ET_EXEC
    store_le16(&bytes[18], 243);  // EM_RISCV
    store_le32(&bytes[20], 1);
    store_le32(&bytes[24], kElfEntry);
    store_le32(&bytes[28], 52);     // phoff
    store_le32(&bytes[32], 0x500);  // shoff
    store_le16(&bytes[40], 52);
    store_le16(&bytes[42], 32);
    store_le16(&bytes[44], static_cast<uint16_t>(phnum));
    store_le16(&bytes[46], 40);
    store_le16(&bytes[48], 3);
    store_le16(&bytes[50], 2);  // .shstrtab
    // Program headers: [0] the data segment, [1] the first segment (descriptor + code), [2] .bss only.
    program_header(0, 0x300, kElfBase + 0x400, 6, 100);
    program_header(1, 0x100, kElfBase, 264, 264);
    program_header(2, 0, kElfBase + 0x1000, 0, 0x200);
    for (uint32_t i = 0; i < 264; ++i)
      bytes[0x100 + i] = static_cast<uint8_t>(i);
    std::memcpy(&bytes[0x300], "\x11\x22\x33\x44\x55\x66", 6);
    const char names[] = "\0.rodata_desc\0.shstrtab";
    std::memcpy(&bytes[0x400], names, sizeof names);
    section_header(1, 1, kElfBase, 0x100, 256);
    section_header(2, 14, 0, 0x400, sizeof names);
  }
  void program_header(uint32_t i, uint32_t offset, uint32_t addr, uint32_t filesz, uint32_t memsz) {
    uint8_t* ph = &bytes[52 + 32 * i];
    store_le32(ph, 1);  // PT_LOAD
    store_le32(ph + 4, offset);
    store_le32(ph + 8, addr);
    store_le32(ph + 12, addr);
    store_le32(ph + 16, filesz);
    store_le32(ph + 20, memsz);
  }
  void section_header(uint32_t i, uint32_t name, uint32_t addr, uint32_t offset, uint32_t size) {
    uint8_t* sh = &bytes[0x500 + 40 * i];
    store_le32(sh, name);
    store_le32(sh + 12, addr);
    store_le32(sh + 16, offset);
    store_le32(sh + 20, size);
  }
};

}  // namespace privota::test
