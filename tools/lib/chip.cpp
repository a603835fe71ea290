#include "chip.h"

#include <array>

#include <fmt/format.h>

#include "privota/secure_boot_v2.h"

namespace privota::tools {
namespace {

constexpr uint8_t kRsaOnly = kSbv2Rsa3072;
constexpr uint8_t kEcdsaOnly = kSbv2EcdsaP256;
constexpr uint8_t kRsaOrEcdsa = kSbv2Rsa3072 | kSbv2EcdsaP256;

constexpr std::array kChips = {
    ChipInfo{ChipId::kEsp32, "esp32", 399, kRsaOnly},
    ChipInfo{ChipId::kEsp32S2, "esp32s2", 99, kRsaOnly},
    ChipInfo{ChipId::kEsp32C3, "esp32c3", 199, kRsaOnly},
    ChipInfo{ChipId::kEsp32S3, "esp32s3", 99, kRsaOnly},
    ChipInfo{ChipId::kEsp32C2, "esp32c2", 199, kEcdsaOnly},
    ChipInfo{ChipId::kEsp32C6, "esp32c6", 99, kRsaOrEcdsa},
    ChipInfo{ChipId::kEsp32H2, "esp32h2", 99, kRsaOrEcdsa},
};

}  // namespace

std::optional<ChipInfo> chip_by_name(std::string_view name) {
  for (const ChipInfo& chip : kChips) {
    if (chip.name == name) return chip;
  }
  return std::nullopt;
}

std::optional<ChipInfo> chip_by_id(uint16_t id) {
  for (const ChipInfo& chip : kChips) {
    if (static_cast<uint16_t>(chip.id) == id) return chip;
  }
  return std::nullopt;
}

std::string chip_name(uint16_t id) {
  if (auto chip = chip_by_id(id)) return std::string(chip->name);
  return fmt::format("chip 0x{:04x}", id);
}

std::string chip_names() {
  std::string names;
  for (const ChipInfo& chip : kChips) {
    if (!names.empty()) names += ", ";
    names += chip.name;
  }
  return names;
}

bool chip_verifies_sbv2_block(const ChipInfo& chip, uint8_t block_version) {
  if (block_version == sbv2::kVersionRsa) return (chip.secure_boot_v2_schemes & kSbv2Rsa3072) != 0;
  if (block_version == sbv2::kVersionEcdsa) return (chip.secure_boot_v2_schemes & kSbv2EcdsaP256) != 0;
  return false;
}

std::string sbv2_schemes_sentence(const ChipInfo& chip) {
  const char* schemes = chip.secure_boot_v2_schemes == kRsaOnly     ? "RSA-3072 only"
                        : chip.secure_boot_v2_schemes == kEcdsaOnly ? "ECDSA P-256 only"
                                                                    : "RSA-3072 or ECDSA P-256";
  return fmt::format("{}'s Secure Boot v2 verifies {}", chip.name, schemes);
}

}  // namespace privota::tools
