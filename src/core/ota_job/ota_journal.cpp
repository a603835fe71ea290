#include "privota/ota_journal.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/ota_data.h"

namespace privota {
namespace {

constexpr uint32_t kHeaderSize = 16;
constexpr uint32_t kUrlOffset = 16;
constexpr uint32_t kValidatorOffset = 496;
constexpr uint32_t kClosedOffset = 640;
constexpr uint32_t kBitmapOffset = 768;
constexpr uint32_t kBitmapBytes = kJournalMaxSectors / 8;
constexpr uint32_t kOpen = 0xFFFFFFFF;

static_assert(kUrlOffset + kMaxLocationLength <= kValidatorOffset, "URL field overlaps the validator");
static_assert(kValidatorOffset + kMaxValidatorLength <= kClosedOffset, "validator overlaps the closed mark");
static_assert(kBitmapOffset + kBitmapBytes <= kJournalRecordSize, "bitmap leaves the record");
static_assert(kJournalFirstRecord + kJournalRecords * kJournalRecordSize <= Flash::kSectorSize,
              "records leave the sector");

enum class Kind : uint8_t { kFree, kDamaged, kClosed, kLive };

uint32_t record_at(int sector, uint32_t index) {
  return static_cast<uint32_t>(sector) * Flash::kSectorSize + kJournalFirstRecord +
         index * kJournalRecordSize;
}

uint32_t record_crc(const uint8_t (&header)[kHeaderSize], const JournalRecord& r) {
  uint32_t crc = crc32_le(UINT32_MAX, ConstByteSpan(header, 12));
  crc = crc32_le(crc, ConstByteSpan(reinterpret_cast<const uint8_t*>(r.url), r.url_len));
  return crc32_le(crc, ConstByteSpan(reinterpret_cast<const uint8_t*>(r.validator), r.validator_len));
}

void encode_header(const JournalRecord& r, uint8_t (&header)[kHeaderSize]) {
  store_le32(header, kJournalMagic);
  store_le32(header + 4, r.total_size);
  store_le16(header + 8, r.url_len);
  store_le16(header + 10, r.validator_len);
  store_le32(header + 12, record_crc(header, r));
}

// strlen that stops at the field's end: a record without its NUL is refused, not read past.
size_t bounded_length(const char* text, size_t capacity) {
  size_t n = 0;
  while (n < capacity && text[n] != '\0')
    ++n;
  return n;
}

bool all_erased(const uint8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != 0xFF) return false;
  }
  return true;
}

// Leading cleared bits of the bitmap, LSB first: sectors are committed in order.
Result<uint32_t> read_committed(Flash& select, uint32_t at) {
  uint8_t bytes[32];
  uint32_t count = 0;
  for (uint32_t chunk = 0; chunk < kBitmapBytes; chunk += sizeof bytes) {
    PRIVOTA_TRY(select.read(at + kBitmapOffset + chunk, ByteSpan(bytes, sizeof bytes)));
    for (uint8_t byte : bytes) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if ((byte >> bit) & 1) return count;
        ++count;
      }
    }
  }
  return count;
}

// Decodes the record at `at` into `out`; what kind of record it is goes to `kind`.
Status read_record(Flash& select, uint32_t at, JournalRecord& out, Kind& kind) {
  uint8_t header[kHeaderSize];
  PRIVOTA_TRY(select.read(at, ByteSpan(header, sizeof header)));
  kind = Kind::kDamaged;
  if (all_erased(header, sizeof header)) {
    kind = Kind::kFree;
    return Status::ok();
  }
  out = JournalRecord();
  out.total_size = load_le32(header + 4);
  out.url_len = load_le16(header + 8);
  out.validator_len = load_le16(header + 10);
  if (load_le32(header) != kJournalMagic || out.url_len == 0 || out.url_len > kMaxLocationLength ||
      out.validator_len > kMaxValidatorLength) {
    return Status::ok();
  }
  PRIVOTA_TRY(select.read(at + kUrlOffset, ByteSpan(reinterpret_cast<uint8_t*>(out.url), out.url_len)));
  PRIVOTA_TRY(select.read(at + kValidatorOffset,
                          ByteSpan(reinterpret_cast<uint8_t*>(out.validator), out.validator_len)));
  if (record_crc(header, out) != load_le32(header + 12)) return Status::ok();
  uint8_t closed[4];
  PRIVOTA_TRY(select.read(at + kClosedOffset, ByteSpan(closed, sizeof closed)));
  kind = load_le32(closed) == kOpen ? Kind::kLive : Kind::kClosed;
  if (out.total_size == 0 || out.validator_len == 0) return Status::ok();  // nothing to resume
  PRIVOTA_ASSIGN_OR_RETURN(uint32_t committed, read_committed(select, at));
  const uint32_t sectors = out.total_size / Flash::kSectorSize;
  out.committed_sectors = committed < sectors ? committed : sectors;
  return Status::ok();
}

struct SectorScan {
  int sector = -1;     // the active uotadata sector, -1 when none is active
  uint32_t next = 0;   // first free record after the last used one (kJournalRecords: full)
  bool live = false;   // the last used record is live
  JournalRecord last;  // the last used record
};

Result<SectorScan> scan_active_sector(AppSlots& slots) {
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(slots.select));
  SectorScan scan;
  scan.sector = view.active;
  if (scan.sector < 0) return scan;
  for (uint32_t i = kJournalRecords; i-- > 0;) {
    Kind kind = Kind::kFree;
    JournalRecord record;
    PRIVOTA_TRY(read_record(slots.select, record_at(scan.sector, i), record, kind));
    if (kind == Kind::kFree) continue;
    scan.next = i + 1;
    scan.live = kind == Kind::kLive;
    scan.last = record;
    scan.last.index = static_cast<uint8_t>(i);
    break;
  }
  return scan;
}

// Rewrites the selection unchanged into the other sector, whose three records are then free.
Status rotate_selection(AppSlots& slots, uint32_t running_slot) {
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(slots.select));
  const int active_slot = view.active_slot(slots.slot_count);
  if (active_slot < 0) {
    return write_ota_selection(slots.select, slots.slot_count, running_slot, OtaState::kUndefined);
  }
  return write_ota_selection(slots.select, slots.slot_count, static_cast<uint32_t>(active_slot),
                             view.active_state());
}

Result<uint32_t> live_record_offset(AppSlots& slots, uint8_t index) {
  if (index >= kJournalRecords)
    return Status::error(Code::kInvalidArgument, "journal record index out of range", index);
  PRIVOTA_ASSIGN_OR_RETURN(const SectorScan scan, scan_active_sector(slots));
  if (!scan.live || scan.last.index != index)
    return Status::error(Code::kNotFound, "journal record is not the live one", index);
  return record_at(scan.sector, index);
}

}  // namespace

Result<JournalRecord> read_live_journal(AppSlots& slots) {
  PRIVOTA_ASSIGN_OR_RETURN(const SectorScan scan, scan_active_sector(slots));
  if (!scan.live) return Status::error(Code::kNotFound, "no OTA job is journaled");
  return scan.last;
}

Result<uint8_t> open_journal(AppSlots& slots, uint32_t running_slot, const JournalRecord& record) {
  if (record.url_len == 0 || record.url_len > kMaxLocationLength ||
      record.validator_len > kMaxValidatorLength ||
      bounded_length(record.url, sizeof record.url) != record.url_len ||
      bounded_length(record.validator, sizeof record.validator) != record.validator_len) {
    return Status::error(Code::kInvalidArgument, "journal record lengths do not match its strings");
  }
  if (running_slot >= slots.slot_count)
    return Status::error(Code::kInvalidArgument, "running slot is not one of the level's slots",
                         running_slot);
  // The scan decides where the record goes: no selection write in between (ota_data.h).
  const ExclusiveFlash hold(slots.select);
  PRIVOTA_ASSIGN_OR_RETURN(SectorScan scan, scan_active_sector(slots));
  if (scan.sector < 0 || scan.next >= kJournalRecords) {
    PRIVOTA_TRY(rotate_selection(slots, running_slot));
    PRIVOTA_ASSIGN_OR_RETURN(scan, scan_active_sector(slots));
    if (scan.sector < 0 || scan.next != 0)
      return Status::error(Code::kIoError, "uotadata did not take the rotated selection");
  }
  const uint32_t at = record_at(scan.sector, scan.next);
  uint8_t header[kHeaderSize];
  encode_header(record, header);
  PRIVOTA_TRY(slots.select.program(at, ConstByteSpan(header, sizeof header)));
  PRIVOTA_TRY(slots.select.program(
      at + kUrlOffset, ConstByteSpan(reinterpret_cast<const uint8_t*>(record.url), record.url_len)));
  if (record.validator_len > 0) {
    PRIVOTA_TRY(slots.select.program(
        at + kValidatorOffset,
        ConstByteSpan(reinterpret_cast<const uint8_t*>(record.validator), record.validator_len)));
  }
  // Read back: a record that does not read as live would silently not resume.
  PRIVOTA_ASSIGN_OR_RETURN(const SectorScan check, scan_active_sector(slots));
  if (!check.live || check.last.index != scan.next)
    return Status::error(Code::kIoError, "journal record does not read back", scan.next);
  return static_cast<uint8_t>(scan.next);
}

Status commit_journal_sectors(AppSlots& slots, uint8_t index, uint32_t sectors) {
  if (sectors > kJournalMaxSectors)
    return Status::error(Code::kLimitExceeded, "more sectors than the journal bitmap holds", sectors);
  const ExclusiveFlash hold(slots.select);
  PRIVOTA_ASSIGN_OR_RETURN(const uint32_t at, live_record_offset(slots, index));
  PRIVOTA_ASSIGN_OR_RETURN(uint32_t committed, read_committed(slots.select, at));
  for (; committed < sectors; ++committed) {
    const uint32_t byte_at = at + kBitmapOffset + committed / 8;
    // Every bit below this one is already cleared (leading count), so this clears exactly one more.
    const uint8_t value = static_cast<uint8_t>(0xFF << (committed % 8 + 1));
    PRIVOTA_TRY(slots.select.program(byte_at, ConstByteSpan(&value, 1)));
  }
  return Status::ok();
}

Status close_journal(AppSlots& slots, uint8_t index) {
  const ExclusiveFlash hold(slots.select);
  PRIVOTA_ASSIGN_OR_RETURN(const uint32_t at, live_record_offset(slots, index));
  const uint8_t closed[4] = {0, 0, 0, 0};
  return slots.select.program(at + kClosedOffset, ConstByteSpan(closed, sizeof closed));
}

}  // namespace privota
