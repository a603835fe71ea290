// otadata / uotadata: which app slot to boot, in ESP-IDF's format (esp_flash_partitions.h,
// bootloader_common_ota_select_*):
//
//   the partition is two 4 KiB sectors; each starts with one esp_ota_select_entry_t (32 B):
//   +0 u32 ota_seq   +4 u8 seq_label[20]   +24 u32 ota_state   +28 u32 crc = crc32_le(UINT32_MAX, ota_seq)
//
// An entry is valid when ota_seq != 0xFFFFFFFF and its CRC matches. The active entry is the valid one with
// the highest sequence; it selects slot (ota_seq - 1) % slot_count. Both levels use this: otadata picks ota_N
// for the protected app, uotadata picks user_N for the user app.
//
// privota adds one record after the entry in the same sector (ESP-IDF reads only the first 32 bytes):
//   +32 u32 magic 0x56535650 ("PVSV")  +36 u32 secure_version floor  +40 u32 crc32_le(UINT32_MAX, +32..+40)
// the anti-rollback minimum of the apps this partition selects. It travels with every selection write, so
// raising it and marking an app valid are one write, and it is as power-safe as the selection itself.
//
// and the budget record (docs/formats.md, "budget record"), written with the selection like the floor:
//   +48 u32 magic 0x42425650 ("PVBB")   +52 u8 failed_boots (carried forward)   +53 u8 rejected_slots (bit i:
//   slot i was given up on)   +54 u8 last_failure (BootFailure)   +55 u8 have_rejected_image (1 or 0)
//   +56 char[32] rejected image's version   +88 u8[16] its ELF SHA-256 prefix   +104 u32 crc32_le(+48..+104)
// and, after it, two rows of marks that are only ever programmed in the ACTIVE sector, one byte per event
// (a byte other than 0xFF is a used mark; a cut mid-program leaves it used or not, never another byte):
//   +128 u8[8]  trial boots: one per boot that found the trial still PENDING_VERIFY (a boot that never
//   reported) +136 u8[32] failed boots: one per reboot caused by a user-app failure; the byte is its
//   BootFailure
// A selection write starts a fresh sector with both rows erased, carrying the failed-boot count into +52.
//
// Every write goes to the sector that does NOT hold the active entry (erase, program the floor record and the
// budget record, then program the entry, whose CRC comes last): a power cut at any point leaves the active
// sector untouched.
#pragma once

#include <stdint.h>

#include "privota/flash.h"
#include "privota/result.h"

namespace privota {

constexpr size_t kOtaSelectEntrySize = 32;
constexpr size_t kOtaDataSectors = 2;

// esp_ota_img_states_t
enum class OtaState : uint32_t {
  kNew = 0x0,
  kPendingVerify = 0x1,
  kValid = 0x2,
  kInvalid = 0x3,
  kAborted = 0x4,
  kUndefined = 0xFFFFFFFF,
};

const char* ota_state_name(uint32_t state);

struct OtaSelectEntry {
  uint32_t ota_seq = UINT32_MAX;
  uint8_t seq_label[20] = {};
  uint32_t ota_state = static_cast<uint32_t>(OtaState::kUndefined);
  uint32_t crc = UINT32_MAX;

  static OtaSelectEntry decode(const uint8_t (&bytes)[kOtaSelectEntrySize]);
  void encode(uint8_t (&bytes)[kOtaSelectEntrySize]) const;
  uint32_t expected_crc() const;
  // ESP-IDF's rule (seq not erased, CRC matches), plus seq != 0: sequences start at 1, and a 0 would make
  // the slot arithmetic (seq - 1) % slots wrap.
  bool valid() const { return ota_seq != UINT32_MAX && ota_seq != 0 && crc == expected_crc(); }
  // The slot this entry selects among `slot_count` app slots: (ota_seq - 1) % slot_count, ESP-IDF's rule.
  // The only place that formula lives. kNoSlot for no slots, or a sequence that selects nothing (0, erased).
  uint32_t slot(uint32_t slot_count) const;
  static constexpr uint32_t kNoSlot = UINT32_MAX;
};

constexpr uint32_t kFloorRecordOffset = 32;
constexpr uint32_t kFloorRecordMagic = 0x56535650;

constexpr uint32_t kBudgetRecordOffset = 48;
constexpr uint32_t kBudgetRecordSize = 60;  // +48..+107
constexpr uint32_t kBudgetRecordMagic = 0x42425650;
constexpr uint32_t kTrialMarksOffset = 128;
constexpr uint32_t kTrialMarks = 8;
constexpr uint32_t kFailedMarksOffset = 136;
constexpr uint32_t kFailedMarks = 32;
constexpr size_t kRejectedVersionSize = 32;
constexpr size_t kRejectedDigestSize = 16;

// Why the device rebooted because of the user app (the failed-boot marks' values).
enum class BootFailure : uint8_t {
  kNone = 0,
  kTrialFailed = 1,    // the trial app crashed, exited, timed out or missed its watchdog
  kMarkedInvalid = 2,  // the app gave up on itself (mark_invalid_and_reboot)
  kCrashLoop = 3,      // a valid app failed past the crash-loop limit
  kUnknown = 0xFE,     // a mark whose program was cut
};

const char* boot_failure_name(BootFailure failure);

// The budget record of one sector; all zero when absent or damaged (a sector written by other tools).
struct BudgetRecord {
  uint8_t failed_boots = 0;
  uint8_t rejected_slots = 0;
  BootFailure last_failure = BootFailure::kNone;
  bool have_rejected_image = false;
  char rejected_version[kRejectedVersionSize + 1] = {};  // NUL-terminated
  uint8_t rejected_elf_sha256[kRejectedDigestSize] = {};
};

struct OtaDataView {
  OtaSelectEntry entries[kOtaDataSectors];
  // The floor record of each sector, when present and intact (0 otherwise).
  uint32_t floors[kOtaDataSectors] = {};
  BudgetRecord budgets[kOtaDataSectors];
  uint8_t trial_marks[kOtaDataSectors] = {};    // used trial-boot marks of each sector
  uint8_t failed_marks[kOtaDataSectors] = {};   // used failed-boot marks of each sector
  BootFailure last_mark[kOtaDataSectors] = {};  // the newest failed-boot mark's value
  // Index into entries of the active entry, or -1 when neither is valid (the device boots the first slot).
  int active = -1;

  // The slot the active entry selects, for `slot_count` app slots; -1 when none is active.
  int active_slot(uint32_t slot_count) const;
  // The active entry's state; kUndefined when none is active.
  OtaState active_state() const;
  // The anti-rollback minimum: the highest floor of the sectors whose entry is valid. Floors only ever rise,
  // and the older sector's floor is never above the newer one's, so a half-written newer sector can only
  // leave the previous value, never a lower one.
  uint32_t secure_version_floor() const;
  // The active sector's budget record (all zero when none is active).
  BudgetRecord budget() const;
  // Boots that found the active trial still PENDING_VERIFY (0 when none is active).
  uint32_t trial_marks_used() const;
  // Consecutive reboots caused by user-app failure: the carried count plus the active sector's marks.
  uint32_t failed_boots() const;
  // Why the newest of them happened.
  BootFailure last_failure() const;
  // The slot holding the image this level last rolled back, when it is not `running_slot`: the older select
  // entry chose it and it was marked INVALID (it crashed, exited or did not confirm in time) or ABORTED; -1
  // when there is none. A trial left PENDING_VERIFY was interrupted (a power cut, a reset): rolled back too,
  // but not the image's fault, so it may be installed again. A job refuses that very image (OtaJobContext's
  // `rejected`, check_image_head in image_head.h): a crashing update is not installed for ever.
  int rolled_back_slot(uint32_t slot_count, uint32_t running_slot) const;
};

// Reads both sectors of an otadata/uotadata region (which must be 2 sectors long).
Result<OtaDataView> read_ota_data(Flash& region);

// Makes `slot` the active one with `state`, carrying the floor forward and raising it to at least
// `raise_floor_to`: writes a new entry with the next sequence that selects `slot` into the inactive sector.
// Selecting the active slot again is how its state changes (e.g. PENDING_VERIFY -> VALID).
// Carries the budget record forward; a NEW state (a new image) clears `slot`'s rejected bit and the
// failed-boot count.
Status write_ota_selection(Flash& region, uint32_t slot_count, uint32_t slot, OtaState state,
                           uint32_t raise_floor_to = 0);

// The same with explicit budget changes.
struct SelectionChange {
  uint32_t slot = 0;
  OtaState state = OtaState::kUndefined;
  uint32_t raise_floor_to = 0;
  bool reset_failed_boots = false;  // a confirmation or a new image: the failure streak ends
  bool accept_slot = false;         // `slot` is trusted again: clear its rejected bit
  int reject_slot = -1;             // a slot given up on: set its bit (never booted again until a new image)
  const char* rejected_version = nullptr;        // the image refused from now on (with its digest)
  const uint8_t* rejected_elf_sha256 = nullptr;  // >= kRejectedDigestSize bytes
};
Status write_ota_selection(Flash& region, uint32_t slot_count, const SelectionChange& change);

// Programs the next trial-boot mark of the active sector. kLimitExceeded when all are used.
Status add_trial_mark(Flash& region);

// Programs the next failed-boot mark of the active sector with `why`. With no active entry it first selects
// `running_slot` (UNDEFINED); with every mark used it first rewrites the selection unchanged (carrying the
// count), so the count is never lost. Saturates at 255.
Status add_failed_boot(Flash& region, uint32_t slot_count, uint32_t running_slot, BootFailure why);

}  // namespace privota
