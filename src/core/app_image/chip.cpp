#include "privota/chip.h"

#include <string.h>

#include "privota/secure_boot_v2.h"

namespace privota {
namespace {

constexpr uint8_t kRsaOnly = kSbv2Rsa3072;
constexpr uint8_t kEcdsaOnly = kSbv2EcdsaP256;
constexpr uint8_t kRsaOrEcdsa = kSbv2Rsa3072 | kSbv2EcdsaP256;

// ESP32-C2's ROM has no RSA (SOC_SECURE_BOOT_V2_ECC only); C6 and H2 verify either; the older chips RSA only.
// The rv32 device verifies in software with mbedTLS, so it takes both.
constexpr ChipInfo kChips[] = {
    {ChipId::kEsp32, "esp32", 399, kRsaOnly},       {ChipId::kEsp32S2, "esp32s2", 99, kRsaOnly},
    {ChipId::kEsp32C3, "esp32c3", 199, kRsaOnly},   {ChipId::kEsp32S3, "esp32s3", 99, kRsaOnly},
    {ChipId::kEsp32C2, "esp32c2", 199, kEcdsaOnly}, {ChipId::kEsp32C6, "esp32c6", 99, kRsaOrEcdsa},
    {ChipId::kEsp32H2, "esp32h2", 99, kRsaOrEcdsa}, {ChipId::kQemuRv32, "qemu-rv32", 99, kRsaOrEcdsa},
};

}  // namespace

Span<const ChipInfo> known_chips() {
  return kChips;
}

const ChipInfo* chip_by_name(const char* name) {
  if (name == nullptr) return nullptr;
  for (const ChipInfo& chip : kChips) {
    if (strcmp(chip.name, name) == 0) return &chip;
  }
  return nullptr;
}

const ChipInfo* chip_by_id(uint16_t id) {
  for (const ChipInfo& chip : kChips) {
    if (static_cast<uint16_t>(chip.id) == id) return &chip;
  }
  return nullptr;
}

bool chip_verifies_sbv2_block(const ChipInfo& chip, uint8_t block_version) {
  if (block_version == sbv2::kVersionRsa) return (chip.secure_boot_v2_schemes & kSbv2Rsa3072) != 0;
  if (block_version == sbv2::kVersionEcdsa) return (chip.secure_boot_v2_schemes & kSbv2EcdsaP256) != 0;
  return false;
}

}  // namespace privota
