// Builds an ESP app image from a bare-metal ELF, as esptool's elf2image does: the image's segments are the
// ELF's loadable segments (PT_LOAD with file bytes) at their load addresses (p_paddr), in address order,
// and the entry point is the ELF's. The rv32 device's bootloader and protected firmware load such images.
//
// The app descriptor: the ELF must hold a 256-byte section .rodata_desc at the very start of its first
// loadable segment (where ESP-IDF's linker scripts put esp_app_desc_t; src/port/rv32/ld/sections.ld does
// the same); the builder fills it from the spec, with SHA-256 of the ELF file as app_elf_sha256.
// A .bss-like tail (p_memsz > p_filesz) is not stored: the program clears it itself.
#pragma once

#include <cstdint>
#include <vector>

#include "image_builder.h"

namespace privota::tools {

// 32-bit little-endian RISC-V executables only (EM_RISCV); spec.payload is ignored.
BuiltImage build_elf_app_image(const ImageSpec& spec, const std::vector<uint8_t>& elf);

}  // namespace privota::tools
