#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/ota_data.h"

namespace privota {

const char* ota_state_name(uint32_t state) {
  switch (static_cast<OtaState>(state)) {
    case OtaState::kNew:
      return "new";
    case OtaState::kPendingVerify:
      return "pending_verify";
    case OtaState::kValid:
      return "valid";
    case OtaState::kInvalid:
      return "invalid";
    case OtaState::kAborted:
      return "aborted";
    case OtaState::kUndefined:
      return "undefined";
  }
  return "unknown";
}

OtaSelectEntry OtaSelectEntry::decode(const uint8_t (&bytes)[kOtaSelectEntrySize]) {
  OtaSelectEntry entry;
  entry.ota_seq = load_le32(bytes);
  memcpy(entry.seq_label, bytes + 4, sizeof entry.seq_label);
  entry.ota_state = load_le32(bytes + 24);
  entry.crc = load_le32(bytes + 28);
  return entry;
}

void OtaSelectEntry::encode(uint8_t (&bytes)[kOtaSelectEntrySize]) const {
  store_le32(bytes, ota_seq);
  memcpy(bytes + 4, seq_label, sizeof seq_label);
  store_le32(bytes + 24, ota_state);
  store_le32(bytes + 28, crc);
}

uint32_t OtaSelectEntry::expected_crc() const {
  uint8_t seq[4];
  store_le32(seq, ota_seq);
  return crc32_le(UINT32_MAX, ConstByteSpan(seq, sizeof seq));
}

uint32_t OtaSelectEntry::slot(uint32_t slot_count) const {
  if (slot_count == 0 || ota_seq == 0 || ota_seq == UINT32_MAX) return kNoSlot;
  return (ota_seq - 1) % slot_count;
}

int OtaDataView::active_slot(uint32_t slot_count) const {
  if (active < 0 || slot_count == 0) return -1;
  return static_cast<int>(entries[active].slot(slot_count));
}

int OtaDataView::rolled_back_slot(uint32_t slot_count, uint32_t running_slot) const {
  if (active < 0 || slot_count == 0) return -1;
  const OtaSelectEntry& older = entries[1 - active];
  if (!older.valid() || older.ota_seq >= entries[active].ota_seq) return -1;
  const uint32_t slot = older.slot(slot_count);
  const auto state = static_cast<OtaState>(older.ota_state);
  if (slot == running_slot || (state != OtaState::kInvalid && state != OtaState::kAborted)) return -1;
  return static_cast<int>(slot);
}

OtaState OtaDataView::active_state() const {
  return active < 0 ? OtaState::kUndefined : static_cast<OtaState>(entries[active].ota_state);
}

uint32_t OtaDataView::secure_version_floor() const {
  uint32_t floor = 0;
  for (size_t i = 0; i < kOtaDataSectors; ++i) {
    if (entries[i].valid() && floors[i] > floor) floor = floors[i];
  }
  return floor;
}

namespace {

// 0 when the record is absent or damaged: a sector written by other tools has none.
uint32_t decode_floor_record(const uint8_t (&record)[12]) {
  if (load_le32(record) != kFloorRecordMagic) return 0;
  if (crc32_le(UINT32_MAX, ConstByteSpan(record, 8)) != load_le32(record + 8)) return 0;
  return load_le32(record + 4);
}

}  // namespace

Result<OtaDataView> read_ota_data(Flash& region) {
  if (region.size() < kOtaDataSectors * Flash::kSectorSize) {
    return Status::error(Code::kBadLength, "otadata region is smaller than two 4 KiB sectors", region.size());
  }
  OtaDataView view;
  for (size_t i = 0; i < kOtaDataSectors; ++i) {
    uint8_t bytes[kOtaSelectEntrySize];
    PRIVOTA_TRY(region.read(static_cast<uint32_t>(i * Flash::kSectorSize), ByteSpan(bytes, sizeof bytes)));
    view.entries[i] = OtaSelectEntry::decode(bytes);
    uint8_t floor_record[12];
    PRIVOTA_TRY(region.read(static_cast<uint32_t>(i * Flash::kSectorSize) + kFloorRecordOffset,
                            ByteSpan(floor_record, sizeof floor_record)));
    view.floors[i] = decode_floor_record(floor_record);
    if (!view.entries[i].valid()) continue;
    if (view.active < 0 || view.entries[i].ota_seq > view.entries[view.active].ota_seq) {
      view.active = static_cast<int>(i);
    }
  }
  return view;
}

}  // namespace privota
