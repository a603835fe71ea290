// ESP Privilege Separation's own uotadata format, read so that devices in the field can migrate to ours
// (esp-privilege-separation components/protected/esp_priv_access/esp_priv_access_ota_utils.*):
//
//   the same 16-byte record at the start of both 4 KiB sectors:
//   +0 u32 magic 0xbde55c5e  +4 u8 version  +5 u8 boot_partition (app subtype, 0x40/0x41)
//   +6 u8 try_partition (subtype of an app to try once, 0xFF none)  +7 u8 0  +8 u32 0
//   +12 u32 crc = crc32_le(0, bytes 0..12)
//
// Both sectors are rewritten in place on every change, so a power cut can leave them different; the
// original then trusts sector 0 if its CRC holds, else sector 1. We keep that rule. Blank sectors mean
// "boot user_0". A legacy record never looks like a valid ESP-IDF entry (its CRC field reads 0xFFFFFFFF).
#pragma once

#include <stdint.h>

#include "privota/app_slots.h"
#include "privota/flash.h"
#include "privota/result.h"

namespace privota {

constexpr uint32_t kLegacyUotadataMagic = 0xbde55c5e;

struct LegacySelection {
  bool present = false;  // a legacy record was found (false: blank, or not legacy at all)
  uint32_t slot = 0;     // 0 = user_0, 1 = user_1
  bool trial = false;    // a new app was to be tried on the next boot
};

// Reads a legacy record from a uotadata region. kBadChecksum when records exist but neither is intact.
Result<LegacySelection> read_legacy_uotadata(Flash& region);

// If uotadata holds no ESP-IDF entry but a legacy record, writes the same selection in our format (a pending
// try becomes NEW, a settled boot partition VALID). Returns whether it migrated. Power-safe: the first write
// goes to sector 0 and sector 1 still holds the legacy record until the new entry is complete.
Result<bool> migrate_legacy_uotadata(AppSlots& slots);

}  // namespace privota
