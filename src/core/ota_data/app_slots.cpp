#include "privota/app_slots.h"

namespace privota {

Result<AppSlots> AppSlots::from_table(Flash& flash, const PartitionTable& table, AppLevel level) {
  const bool user = level == AppLevel::kUser;
  const Partition* select =
      table.find(PartitionType::kData, user ? data_subtype::kUserOta : data_subtype::kOta);
  if (select == nullptr) {
    return Status::error(Code::kNotFound, user ? "partition table has no uotadata partition"
                                               : "partition table has no otadata partition");
  }
  AppSlots out;
  out.select = FlashRegion(flash, select->offset, select->size);
  // Slot n is the partition with subtype first + n; subtypes must be consecutive from the first.
  const uint8_t first = user ? app_subtype::kUser0 : app_subtype::kOtaMin;
  const uint8_t last = user ? app_subtype::kUser1 : app_subtype::kOtaMax;
  for (uint8_t subtype = first; subtype <= last; ++subtype) {
    const Partition* slot = table.find(PartitionType::kApp, subtype);
    if (slot == nullptr) break;
    out.slots[out.slot_count++] = FlashRegion(flash, slot->offset, slot->size);
  }
  if (out.slot_count < 2) {
    return Status::error(Code::kNotFound, user ? "partition table needs user_0 and user_1"
                                               : "partition table needs ota_0 and ota_1");
  }
  return out;
}

}  // namespace privota
