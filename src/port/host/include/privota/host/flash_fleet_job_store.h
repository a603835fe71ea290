// FlashFleetJobStore: the fleet agent's record (FleetJobRecord, docs/fleet.md "Exactly once") in a flash
// partition of its own, power-safe the way otadata is: two 4 KiB sectors written alternately, each record
// carrying a sequence number and a CRC, the newest valid one wins.
//
//   sector +0   u32 magic 0x424F4A46 ("FJOB")    +4  u32 seq (1, 2, ...; the newer record has the higher)
//          +8   u32 length of the text            +12 u32 CRC-32 (esp_rom_crc32_le style, from UINT32_MAX)
//                                                     over bytes +4..+12 and the text
//          +16  the record's JSON text (FleetJobRecord::to_json()), at most kMaxText bytes; the rest 0xFF
//
// A save writes the sector that does not hold the newest record: erase it, program the text, then the
// 16-byte header last. A power cut at any of these leaves that sector without a valid header (erased, torn
// or with a CRC that does not match) and the other sector's record intact, so load() finds the last record
// saved completely — the old one or the new one, never nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "privota/flash_region.h"
#include "privota/host/fleet_job_store.h"
#include "privota/partition_table.h"

namespace privota::host {

class FlashFleetJobStore final : public FleetJobStore {
 public:
  static constexpr uint32_t kMagic = 0x424F4A46;
  static constexpr uint32_t kHeaderSize = 16;
  static constexpr uint32_t kMaxText = Flash::kSectorSize - kHeaderSize;
  // The partition the default table names for it (data, subtype kSubtype, two sectors).
  static constexpr const char* kPartitionName = "fleet";
  static constexpr uint8_t kSubtype = 0x51;

  // `region`: exactly two sectors (the partition).
  explicit FlashFleetJobStore(FlashRegion region) : region_(region) {}
  // The store in `table`'s fleet partition; a reason why not (no such partition, wrong type or size).
  static std::optional<FlashFleetJobStore> open(Flash& flash, const PartitionTable& table, std::string& why);

  FleetJobRecord load() override;
  bool save(const FleetJobRecord& record) override;

 private:
  struct Slot {
    bool valid = false;
    uint32_t seq = 0;
    std::string text;
  };
  Slot read_slot(uint32_t index);

  FlashRegion region_;
};

}  // namespace privota::host
