#include "privota/chip.h"

#include <string.h>

namespace privota {
namespace {

constexpr ChipInfo kChips[] = {
    {ChipId::kEsp32, "esp32", 399},     {ChipId::kEsp32S2, "esp32s2", 99},
    {ChipId::kEsp32C3, "esp32c3", 199}, {ChipId::kEsp32S3, "esp32s3", 99},
    {ChipId::kEsp32C2, "esp32c2", 199}, {ChipId::kEsp32C6, "esp32c6", 99},
    {ChipId::kEsp32H2, "esp32h2", 99},  {ChipId::kQemuRv32, "qemu-rv32", 99},
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

}  // namespace privota
