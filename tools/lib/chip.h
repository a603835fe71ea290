// Chip names as esptool spells them, and what each chip's image header carries by default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "privota/app_image.h"

namespace privota::tools {

// The Secure Boot v2 signature schemes a chip's ROM verifies (ESP-IDF's SOC_SECURE_BOOT_V2_RSA and
// SOC_SECURE_BOOT_V2_ECC), as a set of bits.
enum Sbv2Schemes : uint8_t {
  kSbv2Rsa3072 = 1,
  kSbv2EcdsaP256 = 2,
};

struct ChipInfo {
  ChipId id;
  std::string_view name;
  // ESP-IDF 5's default CONFIG_ESP_REV_MAX_FULL for the chip (major * 100 + minor).
  uint16_t max_chip_rev_full;
  uint8_t secure_boot_v2_schemes;  // Sbv2Schemes bits
};

std::optional<ChipInfo> chip_by_name(std::string_view name);
std::optional<ChipInfo> chip_by_id(uint16_t id);
// "esp32c3", or "chip 0x1234" for an id we do not know.
std::string chip_name(uint16_t id);
// The accepted names, comma separated, for help texts and errors.
std::string chip_names();

// Whether the chip's Secure Boot v2 verifies a block of this version (sbv2::kVersionRsa or kVersionEcdsa).
bool chip_verifies_sbv2_block(const ChipInfo& chip, uint8_t block_version);
// "esp32c3's Secure Boot v2 verifies RSA-3072 only", for refusals.
std::string sbv2_schemes_sentence(const ChipInfo& chip);

}  // namespace privota::tools
