#include "chip.h"

#include <array>

#include <fmt/format.h>

namespace privota::tools {
namespace {

constexpr std::array kChips = {
    ChipInfo{ChipId::kEsp32, "esp32", 399},     ChipInfo{ChipId::kEsp32S2, "esp32s2", 99},
    ChipInfo{ChipId::kEsp32C3, "esp32c3", 199}, ChipInfo{ChipId::kEsp32S3, "esp32s3", 99},
    ChipInfo{ChipId::kEsp32C2, "esp32c2", 199}, ChipInfo{ChipId::kEsp32C6, "esp32c6", 99},
    ChipInfo{ChipId::kEsp32H2, "esp32h2", 99},  ChipInfo{ChipId::kQemuRv32, "qemu-rv32", 99},
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

}  // namespace privota::tools
