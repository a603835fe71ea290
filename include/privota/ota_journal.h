// The OTA job's journal: what a user-app download needs to continue after a reboot or a power cut — the
// URL, the server's validator (ETag or Last-Modified), the image size, and how many 4 KiB sectors of the
// passive slot hold downloaded bytes for certain.
//
// Where: in the free space of the ACTIVE uotadata sector, which nothing erases until the next selection
// write. ESP-IDF reads only the first 32 bytes of the sector and our floor record uses +32..+43, so three
// 1 KiB records fit at +1024, +2048 and +3072. No extra sector is erased for a job (the selection write at
// activation erases the other sector anyway), so the journal costs no erase at all and its few programs are
// bit-clears of erased bytes.
//
//   record (1 KiB, at a 1 KiB offset; each field is programmed by its own operation, and a NOR program
//   changes only the bytes it is given, so a cut while programming one field never damages another):
//   +0   u32 magic 0x4A4E5650 ("PVNJ")   +4 u32 total_size (bytes of the signed image)
//   +8   u16 url_len   +10 u16 validator_len   +12 u32 crc32_le(UINT32_MAX, +0..+12, url, validator)
//   +16  url[url_len] (no NUL, <= 479)   +496 validator[validator_len] (no NUL, <= 127)
//   +640 u32 closed: 0xFFFFFFFF while the job runs; anything else once it ended (failed, cancelled,
//        restarted from zero)
//   +768 progress bitmap, 256 bytes: bit i (byte i/8, bit i%8, LSB first) cleared = sector i of the passive
//        slot is downloaded and programmed. Sectors are committed in order, so the count of committed
//        sectors is the number of leading cleared bits. One byte program per sector, each clearing exactly
//        one more bit: a cut mid-program leaves that bit cleared or not, never another.
//
// A record is written header first (+0..+15 in one program), then the URL, then the validator: a cut
// while writing it leaves a used record whose CRC does not hold, never a free-looking one with stray bytes.
// A record is free when its first 16 bytes are 0xFF, valid when its magic and CRC hold. Records are used in
// order, so the last used record of the active sector is the newest job's: it is the live record when it is
// valid and not closed (an older record below it is never live again, even if it was never closed).
// The bitmap counts only with a known total size and a validator (otherwise a job cannot resume, and the
// job commits nothing): committed_sectors is 0 then, and never more than total_size / 4096.
// With no active selection entry (a factory-fresh uotadata), open_journal() first selects the running slot
// with state UNDEFINED (boots like VALID), so the record has an active sector to live in.
// A job that activates its image leaves its record in what becomes the inactive sector: it is never live
// again. When all three records of the active sector are used, open_journal() first rewrites the
// selection unchanged (same slot, state, floor) into the other sector, which gives it three fresh records.
//
// Rule for callers: while a job's record is live, nothing else may write the selection (the protected app
// refuses ota_start for a trial app and cancels the job before mark_invalid).
#pragma once

#include <stdint.h>

#include "privota/app_slots.h"
#include "privota/result.h"
#include "privota/transport.h"

namespace privota {

constexpr uint32_t kJournalMagic = 0x4A4E5650;
constexpr uint32_t kJournalRecordSize = 1024;
constexpr uint32_t kJournalFirstRecord = 1024;
constexpr uint32_t kJournalRecords = 3;
constexpr uint32_t kJournalMaxSectors = 256 * 8;  // the bitmap's bits: 8 MiB of passive slot

struct JournalRecord {
  char url[kMaxLocationLength + 1] = {};  // NUL-terminated
  uint16_t url_len = 0;
  char validator[kMaxValidatorLength + 1] = {};  // NUL-terminated; empty: the server sent none
  uint16_t validator_len = 0;
  uint32_t total_size = 0;
  uint32_t committed_sectors = 0;  // read only: from the bitmap
  uint8_t index = 0;               // read only: which record of the sector
};

// The live record of the user level's select partition; kNotFound when there is none.
Result<JournalRecord> read_live_journal(AppSlots& slots);

// Writes a new record for a job that starts from zero (url, validator, total_size of `record`); returns its
// index. May rotate the selection first (see above); `running_slot` is the slot the device runs.
Result<uint8_t> open_journal(AppSlots& slots, uint32_t running_slot, const JournalRecord& record);

// Marks sectors [already committed, sectors) of the passive slot as downloaded. Never lowers the count.
Status commit_journal_sectors(AppSlots& slots, uint8_t index, uint32_t sectors);

// Ends the record: it is never resumed.
Status close_journal(AppSlots& slots, uint8_t index);

}  // namespace privota
