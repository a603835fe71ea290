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

}  // namespace privota::host
