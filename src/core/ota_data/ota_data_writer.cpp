#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/ota_data.h"

namespace privota {
namespace {

// The smallest sequence above `current` that selects `slot`; a first selection starts at slot + 1.
Result<uint32_t> next_sequence(const OtaDataView& view, uint32_t slot_count, uint32_t slot) {
  if (view.active < 0) return slot + 1;
  const uint32_t current = view.entries[view.active].ota_seq;
  const uint32_t current_slot = view.entries[view.active].slot(slot_count);
  const uint32_t step = (slot + slot_count - current_slot - 1) % slot_count + 1;
  // 0xFFFFFFFF means "erased": a sequence may never reach it.
  if (current >= UINT32_MAX - step) {
    return Status::error(Code::kLimitExceeded, "otadata sequence number is exhausted", current);
  }
  return current + step;
}

void encode_floor_record(uint32_t floor, uint8_t (&record)[12]) {
  store_le32(record, kFloorRecordMagic);
  store_le32(record + 4, floor);
  store_le32(record + 8, crc32_le(UINT32_MAX, ConstByteSpan(record, 8)));
}

}  // namespace

Status write_ota_selection(Flash& region, uint32_t slot_count, uint32_t slot, OtaState state,
                           uint32_t raise_floor_to) {
  if (slot_count == 0 || slot >= slot_count) {
    return Status::error(Code::kInvalidArgument, "slot is not one of the partition's app slots", slot);
  }
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(region));
  PRIVOTA_ASSIGN_OR_RETURN(const uint32_t seq, next_sequence(view, slot_count, slot));

  OtaSelectEntry entry;
  entry.ota_seq = seq;
  memset(entry.seq_label, 0xFF, sizeof entry.seq_label);  // as ESP-IDF leaves it: unwritten
  entry.ota_state = static_cast<uint32_t>(state);
  entry.crc = entry.expected_crc();
  uint8_t entry_bytes[kOtaSelectEntrySize];
  entry.encode(entry_bytes);

  uint32_t floor = view.secure_version_floor();
  if (raise_floor_to > floor) floor = raise_floor_to;
  uint8_t floor_record[12];
  encode_floor_record(floor, floor_record);

  // Never touch the sector holding the active entry; with none active, sector 0 first.
  const uint32_t target = view.active == 0 ? 1 : 0;
  const uint32_t at = target * Flash::kSectorSize;
  PRIVOTA_TRY(region.erase(at, Flash::kSectorSize));
  PRIVOTA_TRY(region.program(at + kFloorRecordOffset, ConstByteSpan(floor_record, sizeof floor_record)));
  // Last: the entry. Until its CRC is complete the sector does not count.
  return region.program(at, ConstByteSpan(entry_bytes, sizeof entry_bytes));
}

}  // namespace privota
