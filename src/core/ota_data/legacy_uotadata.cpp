#include "privota/legacy_uotadata.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/ota_data.h"
#include "privota/partition_table.h"

namespace privota {
namespace {

constexpr size_t kRecordSize = 16;

bool intact(const uint8_t (&r)[kRecordSize]) {
  return load_le32(r) == kLegacyUotadataMagic && crc32_le(0, ConstByteSpan(r, 12)) == load_le32(r + 12);
}

bool blank(const uint8_t (&r)[kRecordSize]) {
  for (uint8_t b : r) {
    if (b != 0xFF) return false;
  }
  return true;
}

Result<uint32_t> slot_of(uint8_t subtype) {
  if (subtype == app_subtype::kUser0) return 0u;
  if (subtype == app_subtype::kUser1) return 1u;
  return Status::error(Code::kInvalidArgument, "legacy uotadata names a partition that is not user_0/user_1",
                       subtype);
}

}  // namespace

Result<LegacySelection> read_legacy_uotadata(Flash& region) {
  uint8_t records[2][kRecordSize];
  for (uint32_t i = 0; i < 2; ++i)
    PRIVOTA_TRY(region.read(i * Flash::kSectorSize, ByteSpan(records[i], kRecordSize)));
  LegacySelection out;
  if (blank(records[0]) && blank(records[1])) return out;
  const uint8_t* r = intact(records[0]) ? records[0] : intact(records[1]) ? records[1] : nullptr;
  if (r == nullptr) {
    if (load_le32(records[0]) != kLegacyUotadataMagic && load_le32(records[1]) != kLegacyUotadataMagic)
      return out;
    return Status::error(Code::kBadChecksum, "both legacy uotadata records are damaged");
  }
  const uint8_t try_partition = r[6];
  out.present = true;
  out.trial = try_partition != 0xFF;
  PRIVOTA_ASSIGN_OR_RETURN(out.slot, slot_of(out.trial ? try_partition : r[5]));
  return out;
}

Result<bool> migrate_legacy_uotadata(AppSlots& slots) {
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(slots.select));
  if (view.active >= 0) return false;
  PRIVOTA_ASSIGN_OR_RETURN(const LegacySelection legacy, read_legacy_uotadata(slots.select));
  if (!legacy.present) return false;
  PRIVOTA_TRY(write_ota_selection(slots.select, slots.slot_count, legacy.slot,
                                  legacy.trial ? OtaState::kNew : OtaState::kValid));
  return true;
}

}  // namespace privota
