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
// Every write goes to the sector that does NOT hold the active entry (erase, program the floor record, then
// program the entry, whose CRC comes last): a power cut at any point leaves the active sector untouched.
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

struct OtaDataView {
  OtaSelectEntry entries[kOtaDataSectors];
  // The floor record of each sector, when present and intact (0 otherwise).
  uint32_t floors[kOtaDataSectors] = {};
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
Status write_ota_selection(Flash& region, uint32_t slot_count, uint32_t slot, OtaState state,
                           uint32_t raise_floor_to = 0);

}  // namespace privota
