// The chips an image can be built for: their ids as esptool and ESP-IDF number them (esp_chip_id_t, in the
// image header), the names esptool spells them with, and what each chip's image header carries by default.
// One table for the device (which chip it is), the bootloader (which images it accepts) and the tools.
#pragma once

#include <stdint.h>

#include "privota/span.h"

namespace privota {

enum class ChipId : uint16_t {
  kEsp32 = 0x0000,
  kEsp32S2 = 0x0002,
  kEsp32C3 = 0x0005,
  kEsp32S3 = 0x0009,
  kEsp32C2 = 0x000C,
  kEsp32C6 = 0x000D,
  kEsp32H2 = 0x0010,
  // Not an Espressif chip: privota's rv32 device, QEMU's virt machine (docs/rv32.md). Espressif numbers its
  // chips from 0 upwards (below 0x100 so far); "RV" in ASCII keeps well clear of them.
  kQemuRv32 = 0x5256,
  kAny = 0xFFFF,  // not a chip: "do not check" in AppImageLimits; never in the table below
};

// The Secure Boot v2 signature schemes a chip's ROM verifies (ESP-IDF's SOC_SECURE_BOOT_V2_RSA and
// SOC_SECURE_BOOT_V2_ECC), as a set of bits.
enum Sbv2Schemes : uint8_t {
  kSbv2Rsa3072 = 1,
  kSbv2EcdsaP256 = 2,
};

struct ChipInfo {
  ChipId id;
  const char* name;  // "esp32c3"
  // ESP-IDF 5's default CONFIG_ESP_REV_MAX_FULL for the chip (major * 100 + minor).
  uint16_t max_chip_rev_full;
  uint8_t secure_boot_v2_schemes;  // Sbv2Schemes bits
};

// Every chip we know, in esp_chip_id_t order.
Span<const ChipInfo> known_chips();
// nullptr when the name (NUL-terminated, exact, lower case) or the id is not a known chip.
const ChipInfo* chip_by_name(const char* name);
const ChipInfo* chip_by_id(uint16_t id);
// Whether the chip's Secure Boot v2 verifies a block of this version (sbv2::kVersionRsa or kVersionEcdsa).
bool chip_verifies_sbv2_block(const ChipInfo& chip, uint8_t block_version);

}  // namespace privota
