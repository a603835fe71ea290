// The core's chip table (privota/chip.h) as text, for configuration errors, help texts and reports.
#pragma once

#include <cstdint>
#include <string>

namespace privota {
struct ChipInfo;
}

namespace privota::host {

// "esp32c3", or "chip 0x1234" for an id the table does not know.
std::string chip_name(uint16_t id);
// Every known chip name, comma separated: "esp32, esp32s2, ...".
std::string chip_names();
// "esp32c3's Secure Boot v2 verifies RSA-3072 only", for refusals.
std::string sbv2_schemes_sentence(const ChipInfo& chip);

}  // namespace privota::host
