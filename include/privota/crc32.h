// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with the calling convention of ESP-IDF's
// esp_rom_crc32_le(): the caller's value is inverted on entry and the result inverted on exit, so
//   crc32_le(0, data)          == zlib crc32(data)
//   crc32_le(UINT32_MAX, data) is what otadata and the Secure Boot v2 / user-app blocks store.
// Chaining works like the ROM function: crc32_le(crc32_le(c, a), b) == crc32_le(c, a + b).
#pragma once

#include <stdint.h>

#include "privota/span.h"

namespace privota {

uint32_t crc32_le(uint32_t crc, ConstByteSpan data);

}  // namespace privota
