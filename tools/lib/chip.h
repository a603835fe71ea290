// Chip names as esptool spells them, and what each chip's image header carries by default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "privota/app_image.h"

namespace privota::tools {

struct ChipInfo {
  ChipId id;
  std::string_view name;
  // ESP-IDF 5's default CONFIG_ESP_REV_MAX_FULL for the chip (major * 100 + minor).
  uint16_t max_chip_rev_full;
};

std::optional<ChipInfo> chip_by_name(std::string_view name);
std::optional<ChipInfo> chip_by_id(uint16_t id);
// "esp32c3", or "chip 0x1234" for an id we do not know.
std::string chip_name(uint16_t id);
// The accepted names, comma separated, for help texts and errors.
std::string chip_names();

}  // namespace privota::tools
