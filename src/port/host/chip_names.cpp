#include "privota/host/chip_names.h"

#include <cstdio>

#include "privota/chip.h"

namespace privota::host {

std::string chip_name(uint16_t id) {
  if (const ChipInfo* chip = chip_by_id(id)) return chip->name;
  char text[16];
  std::snprintf(text, sizeof text, "chip 0x%04x", id);
  return text;
}

std::string chip_names() {
  std::string names;
  for (const ChipInfo& chip : known_chips()) {
    if (!names.empty()) names += ", ";
    names += chip.name;
  }
  return names;
}

std::string sbv2_schemes_sentence(const ChipInfo& chip) {
  const char* schemes = chip.secure_boot_v2_schemes == kSbv2Rsa3072     ? "RSA-3072 only"
                        : chip.secure_boot_v2_schemes == kSbv2EcdsaP256 ? "ECDSA P-256 only"
                                                                        : "RSA-3072 or ECDSA P-256";
  return std::string(chip.name) + "'s Secure Boot v2 verifies " + schemes;
}

}  // namespace privota::host
