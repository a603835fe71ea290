// One level of A/B apps: the select partition (otadata or uotadata) and the app slots it chooses among
// (ota_0, ota_1 for the protected app; user_0, user_1 for the user app). The update writer and the boot
// decision both work on this, so the same code serves both levels.
#pragma once

#include <stdint.h>

#include "privota/flash_region.h"
#include "privota/partition_table.h"
#include "privota/result.h"

namespace privota {

constexpr uint32_t kMaxAppSlots = 16;  // ota_0 .. ota_15

enum class AppLevel : uint8_t { kProtected, kUser };

struct AppSlots {
  FlashRegion select;
  FlashRegion slots[kMaxAppSlots];
  uint32_t slot_count = 0;

  // From a validated partition table: otadata + ota_N (protected) or uotadata + user_0/user_1 (user).
  // Needs the select partition and at least two slots; slots are ordered by subtype.
  static Result<AppSlots> from_table(Flash& flash, const PartitionTable& table, AppLevel level);
};

}  // namespace privota
