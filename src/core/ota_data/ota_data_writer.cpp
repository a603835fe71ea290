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

// The active record carried forward with `change` applied.
BudgetRecord next_budget(const OtaDataView& view, const SelectionChange& change) {
  BudgetRecord next = view.budget();
  const uint32_t failed = view.failed_boots();
  next.failed_boots = static_cast<uint8_t>(failed > 255 ? 255 : failed);
  next.last_failure = view.last_failure();
  if (change.reset_failed_boots) {
    next.failed_boots = 0;
    next.last_failure = BootFailure::kNone;
  }
  if (change.slot < 8 && change.accept_slot)
    next.rejected_slots &= static_cast<uint8_t>(~(1u << change.slot));
  if (change.reject_slot >= 0 && change.reject_slot < 8) {
    next.rejected_slots |= static_cast<uint8_t>(1u << change.reject_slot);
  }
  if (change.rejected_version != nullptr && change.rejected_elf_sha256 != nullptr) {
    next.have_rejected_image = true;
    memset(next.rejected_version, 0, sizeof next.rejected_version);
    for (size_t i = 0; i < kRejectedVersionSize && change.rejected_version[i] != '\0'; ++i) {
      next.rejected_version[i] = change.rejected_version[i];
    }
    memcpy(next.rejected_elf_sha256, change.rejected_elf_sha256, kRejectedDigestSize);
  }
  return next;
}

void encode_budget_record(const BudgetRecord& b, uint8_t (&r)[kBudgetRecordSize]) {
  memset(r, 0, sizeof r);
  store_le32(r, kBudgetRecordMagic);
  r[4] = b.failed_boots;
  r[5] = b.rejected_slots;
  r[6] = static_cast<uint8_t>(b.last_failure);
  r[7] = b.have_rejected_image ? 1 : 0;
  if (b.have_rejected_image) {
    memcpy(r + 8, b.rejected_version, kRejectedVersionSize);
    memcpy(r + 8 + kRejectedVersionSize, b.rejected_elf_sha256, kRejectedDigestSize);
  }
  store_le32(r + kBudgetRecordSize - 4, crc32_le(UINT32_MAX, ConstByteSpan(r, kBudgetRecordSize - 4)));
}

}  // namespace

Status write_ota_selection(Flash& region, uint32_t slot_count, uint32_t slot, OtaState state,
                           uint32_t raise_floor_to) {
  SelectionChange change;
  change.slot = slot;
  change.state = state;
  change.raise_floor_to = raise_floor_to;
  if (state == OtaState::kNew) {
    // A new image: the failure streak ends and the slot may boot again (its trial decides).
    change.reset_failed_boots = true;
    change.accept_slot = true;
  }
  return write_ota_selection(region, slot_count, change);
}

Status write_ota_selection(Flash& region, uint32_t slot_count, const SelectionChange& change) {
  const ExclusiveFlash hold(region);
  const uint32_t slot = change.slot;
  if (slot_count == 0 || slot >= slot_count) {
    return Status::error(Code::kInvalidArgument, "slot is not one of the partition's app slots", slot);
  }
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(region));
  PRIVOTA_ASSIGN_OR_RETURN(const uint32_t seq, next_sequence(view, slot_count, slot));

  OtaSelectEntry entry;
  entry.ota_seq = seq;
  memset(entry.seq_label, 0xFF, sizeof entry.seq_label);  // as ESP-IDF leaves it: unwritten
  entry.ota_state = static_cast<uint32_t>(change.state);
  entry.crc = entry.expected_crc();
  uint8_t entry_bytes[kOtaSelectEntrySize];
  entry.encode(entry_bytes);

  uint32_t floor = view.secure_version_floor();
  if (change.raise_floor_to > floor) floor = change.raise_floor_to;
  uint8_t floor_record[12];
  encode_floor_record(floor, floor_record);
  uint8_t budget_record[kBudgetRecordSize];
  encode_budget_record(next_budget(view, change), budget_record);

  // Never touch the sector holding the active entry; with none active, sector 0 first.
  const uint32_t target = view.active == 0 ? 1 : 0;
  const uint32_t at = target * Flash::kSectorSize;
  PRIVOTA_TRY(region.erase(at, Flash::kSectorSize));
  PRIVOTA_TRY(region.program(at + kFloorRecordOffset, ConstByteSpan(floor_record, sizeof floor_record)));
  PRIVOTA_TRY(region.program(at + kBudgetRecordOffset, ConstByteSpan(budget_record, sizeof budget_record)));
  // Last: the entry. Until its CRC is complete the sector does not count.
  return region.program(at, ConstByteSpan(entry_bytes, sizeof entry_bytes));
}

namespace {

Status program_mark(Flash& region, const OtaDataView& view, uint32_t offset, uint8_t value) {
  const uint32_t at = static_cast<uint32_t>(view.active) * Flash::kSectorSize + offset;
  return region.program(at, ConstByteSpan(&value, 1));
}

}  // namespace

Status add_trial_mark(Flash& region) {
  const ExclusiveFlash hold(region);
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(region));
  if (view.active < 0) return Status::error(Code::kBadState, "no selection to count a trial boot in");
  const uint32_t used = view.trial_marks_used();
  if (used >= kTrialMarks) return Status::error(Code::kLimitExceeded, "every trial-boot mark is used", used);
  return program_mark(region, view, kTrialMarksOffset + used, 0x00);
}

Status add_failed_boot(Flash& region, uint32_t slot_count, uint32_t running_slot, BootFailure why) {
  const ExclusiveFlash hold(region);
  PRIVOTA_ASSIGN_OR_RETURN(OtaDataView view, read_ota_data(region));
  if (view.active < 0) {
    PRIVOTA_TRY(write_ota_selection(region, slot_count, running_slot, OtaState::kUndefined));
    PRIVOTA_ASSIGN_OR_RETURN(view, read_ota_data(region));
  }
  if (view.failed_boots() >= 255) return Status::ok();
  if (view.failed_marks[view.active] >= kFailedMarks) {
    // Every mark used: the same selection into the other sector carries the count into its record.
    SelectionChange same;
    same.slot = static_cast<uint32_t>(view.active_slot(slot_count));
    same.state = view.active_state();
    PRIVOTA_TRY(write_ota_selection(region, slot_count, same));
    PRIVOTA_ASSIGN_OR_RETURN(view, read_ota_data(region));
  }
  return program_mark(region, view, kFailedMarksOffset + view.failed_marks[view.active],
                      static_cast<uint8_t>(why));
}

}  // namespace privota
