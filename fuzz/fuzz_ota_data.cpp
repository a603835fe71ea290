// Fuzzes the otadata/uotadata readers (ours and ESP-PrivSep's legacy record) over an 8 KiB partition taken
// from the input, then one selection write. A write that succeeds must read back with the chosen slot and
// state active and the anti-rollback floor not lowered; a write that fails must say why with a Status.
//
// Input: [0] slot count (0..31)  [1] slot  [2] state (0..4, else UNDEFINED)  [3..6] floor to raise to, u32 LE
//        [7..] the partition: 8192 bytes, 0xFF-padded or cut
//
// Found here and fixed (fuzz/corpus/fuzz_ota_data/regression_seq_zero; test
// OtaDataWriter.AnEntryWithSequenceZeroIsNotActive): an entry with ota_seq 0 and a valid CRC made the next
// write select the wrong slot; such entries no longer count as valid.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "privota/host/memory_flash.h"
#include "privota/legacy_uotadata.h"
#include "privota/ota_data.h"

using namespace privota;

namespace {

constexpr size_t kControlSize = 7;
constexpr uint32_t kPartitionSize = kOtaDataSectors * Flash::kSectorSize;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kControlSize) return 0;
  const uint32_t slot_count = data[0] & 0x1F;
  const uint32_t slot = data[1];
  const OtaState state = data[2] <= 4 ? static_cast<OtaState>(data[2]) : OtaState::kUndefined;
  const uint32_t raise_floor_to = data[3] | static_cast<uint32_t>(data[4]) << 8 |
                                  static_cast<uint32_t>(data[5]) << 16 | static_cast<uint32_t>(data[6]) << 24;

  std::vector<uint8_t> cells(kPartitionSize, 0xFF);
  const size_t given = size - kControlSize;
  memcpy(cells.data(), data + kControlSize, given < kPartitionSize ? given : kPartitionSize);
  host::MemoryFlash region(std::move(cells));

  Result<LegacySelection> legacy = read_legacy_uotadata(region);
  if (legacy.is_ok() && legacy->present && legacy->slot > 1) __builtin_trap();  // user_0 or user_1 only

  Result<OtaDataView> before = read_ota_data(region);
  if (!before.is_ok()) return 0;  // a readable 8 KiB region always reads; nothing to write on
  if (before->active >= static_cast<int>(kOtaDataSectors)) __builtin_trap();
  if (before->active >= 0 && !before->entries[before->active].valid()) __builtin_trap();
  if (slot_count != 0) {
    const int active_slot = before->active_slot(slot_count);
    if (active_slot >= static_cast<int>(slot_count)) __builtin_trap();
  }
  (void)ota_state_name(static_cast<uint32_t>(before->active_state()));
  const uint32_t floor_before = before->secure_version_floor();

  const Status written = write_ota_selection(region, slot_count, slot, state, raise_floor_to);
  if (!written.is_ok()) {
    if (written.code() == Code::kOk) __builtin_trap();
    return 0;
  }
  Result<OtaDataView> after = read_ota_data(region);
  if (!after.is_ok()) __builtin_trap();
  if (after->active_slot(slot_count) != static_cast<int>(slot)) __builtin_trap();
  if (after->active_state() != state) __builtin_trap();
  const uint32_t floor_after = after->secure_version_floor();
  if (floor_after < floor_before || floor_after < raise_floor_to) __builtin_trap();
  return 0;
}
