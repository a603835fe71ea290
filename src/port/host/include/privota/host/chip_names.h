// The core's chip table (privota/chip.h) as text, for configuration errors, help texts and reports.
#pragma once

#include <cstdint>
#include <string>

namespace privota::host {

// "esp32c3", or "chip 0x1234" for an id the table does not know.
std::string chip_name(uint16_t id);
// Every known chip name, comma separated: "esp32, esp32s2, ...".
std::string chip_names();

}  // namespace privota::host
