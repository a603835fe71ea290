// otadata / uotadata: which app slot to boot, in ESP-IDF's format (esp_flash_partitions.h,
// bootloader_common_ota_select_*):
//
//   the partition is two 4 KiB sectors; each starts with one esp_ota_select_entry_t (32 B):
//   +0 u32 ota_seq   +4 u8 seq_label[20]   +24 u32 ota_state   +28 u32 crc = crc32_le(UINT32_MAX, ota_seq)
//
// An entry is valid when ota_seq != 0xFFFFFFFF and its CRC matches. The active entry is the valid one with
// the highest sequence; it selects slot (ota_seq - 1) % slot_count. Both levels use this: otadata picks ota_N
// for the protected app, uotadata picks user_N for the user app.
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
  bool valid() const { return ota_seq != UINT32_MAX && crc == expected_crc(); }
};

struct OtaDataView {
  OtaSelectEntry entries[kOtaDataSectors];
  // Index into entries of the active entry, or -1 when neither is valid (the device boots the first slot).
  int active = -1;
  // The slot the active entry selects, for `slot_count` app slots; -1 when none is active.
  int active_slot(uint32_t slot_count) const;
};

// Reads both select entries of an otadata/uotadata region (which must be 2 sectors long).
Result<OtaDataView> read_ota_data(Flash& region);

}  // namespace privota
