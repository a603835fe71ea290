// Builds ESP app images (see privota/app_image.h for the layout) around a host payload.
//
// Layout, chosen so that ESP-IDF's bootloader rules for flash-mapped segments would hold (load address and
// file offset congruent modulo the 64 KiB MMU page):
//   segment 0: DROM at 0x3C000020, the 256-byte esp_app_desc_t (as ESP-IDF puts it first in .rodata)
//   segment 1: IROM at 0x42000000 + its file offset, the payload (an executable for the host device)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "privota/app_image.h"
#include "privota/chip.h"

namespace privota::tools {

struct ImageSpec {
  std::vector<uint8_t> payload;
  std::string version;  // up to 31 characters
  uint32_t secure_version = 0;
  std::string project_name;  // up to 31 characters
  ChipId chip = ChipId::kEsp32C3;
  std::string time;     // "HH:MM:SS", up to 15 characters; empty = from the build clock
  std::string date;     // "Mon DD YYYY", up to 15 characters; empty = from the build clock
  std::string idf_ver;  // "built with", up to 31 characters; empty = "privota-<version>"
  uint16_t min_chip_rev_full = 0;
  std::optional<uint16_t> max_chip_rev_full;  // default: the chip's
};

struct BuiltImage {
  std::vector<uint8_t> bytes;
  std::string error;  // empty on success; otherwise says which field is wrong
};

// The build clock is SOURCE_DATE_EPOCH when set (reproducible builds), else the current time.
BuiltImage build_app_image(const ImageSpec& spec);

// The parts every image builder shares (this one and elf_image_builder.h):
// fills a 256-byte esp_app_desc_t from `spec` with `elf_digest` as app_elf_sha256; "" or what is wrong.
std::string fill_app_descriptor(const ImageSpec& spec, const uint8_t (&elf_digest)[32], uint8_t* desc);
struct ImageSegment {
  uint32_t load_addr = 0;
  std::vector<uint8_t> data;  // padded with zeros to a multiple of 4 when assembled
};
// Header (chip and revisions from `spec`), segments, checksum and the appended SHA-256.
std::vector<uint8_t> assemble_app_image(const ImageSpec& spec, uint16_t max_rev, uint32_t entry,
                                        const std::vector<ImageSegment>& segments);

// Where the payload (segment 1) lies in a built image: what the bootloader hands to fexecve.
constexpr uint32_t kDescLoadAddr = 0x3C000020;
constexpr uint32_t kPayloadLoadBase = 0x42000000;

}  // namespace privota::tools
