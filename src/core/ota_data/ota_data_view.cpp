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

BudgetRecord OtaDataView::budget() const {
  return active < 0 ? BudgetRecord() : budgets[active];
}

uint32_t OtaDataView::trial_marks_used() const {
  return active < 0 ? 0 : trial_marks[active];
}

uint32_t OtaDataView::failed_boots() const {
  return active < 0 ? 0 : static_cast<uint32_t>(budgets[active].failed_boots) + failed_marks[active];
}

BootFailure OtaDataView::last_failure() const {
  if (active < 0) return BootFailure::kNone;
  return failed_marks[active] > 0 ? last_mark[active] : budgets[active].last_failure;
}

const char* boot_failure_name(BootFailure failure) {
  switch (failure) {
    case BootFailure::kNone:
      return "none";
    case BootFailure::kTrialFailed:
      return "trial_failed";
    case BootFailure::kMarkedInvalid:
      return "marked_invalid";
    case BootFailure::kCrashLoop:
      return "crash_loop";
    case BootFailure::kUnknown:
      return "unknown";
  }
  return "unknown";
}

namespace {

BudgetRecord decode_budget_record(const uint8_t (&r)[kBudgetRecordSize]) {
  BudgetRecord record;
  if (load_le32(r) != kBudgetRecordMagic) return record;
  if (crc32_le(UINT32_MAX, ConstByteSpan(r, kBudgetRecordSize - 4)) != load_le32(r + kBudgetRecordSize - 4)) {
    return record;
  }
  record.failed_boots = r[4];
  record.rejected_slots = r[5];
  record.last_failure = static_cast<BootFailure>(r[6]);
  record.have_rejected_image = r[7] == 1;
  if (record.have_rejected_image) {
    memcpy(record.rejected_version, r + 8, kRejectedVersionSize);
    memcpy(record.rejected_elf_sha256, r + 8 + kRejectedVersionSize, kRejectedDigestSize);
  }
  return record;
}

// Marks are used from the first byte on; the count is the number of leading bytes other than 0xFF.
uint8_t count_marks(const uint8_t* marks, uint32_t n) {
  uint8_t used = 0;
  while (used < n && marks[used] != 0xFF)
    ++used;
  return used;
}

// Known values stand; a byte whose program was cut reads as some other value: kUnknown.
BootFailure mark_value(uint8_t byte) {
  if (byte >= static_cast<uint8_t>(BootFailure::kTrialFailed) &&
      byte <= static_cast<uint8_t>(BootFailure::kCrashLoop)) {
    return static_cast<BootFailure>(byte);
  }
  return BootFailure::kUnknown;
}

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
    const uint32_t base = static_cast<uint32_t>(i * Flash::kSectorSize);
    uint8_t budget[kBudgetRecordSize];
    PRIVOTA_TRY(region.read(base + kBudgetRecordOffset, ByteSpan(budget, sizeof budget)));
    view.budgets[i] = decode_budget_record(budget);
    uint8_t marks[kTrialMarks + kFailedMarks];
    static_assert(kFailedMarksOffset == kTrialMarksOffset + kTrialMarks, "the mark rows are adjacent");
    PRIVOTA_TRY(region.read(base + kTrialMarksOffset, ByteSpan(marks, sizeof marks)));
    view.trial_marks[i] = count_marks(marks, kTrialMarks);
    view.failed_marks[i] = count_marks(marks + kTrialMarks, kFailedMarks);
    if (view.failed_marks[i] > 0)
      view.last_mark[i] = mark_value(marks[kTrialMarks + view.failed_marks[i] - 1]);
    if (!view.entries[i].valid()) continue;
    if (view.active < 0 || view.entries[i].ota_seq > view.entries[view.active].ota_seq) {
      view.active = static_cast<int>(i);
    }
  }
  return view;
}

}  // namespace privota
