#include "privota/host/flash_fleet_job_store.h"

#include <algorithm>
#include <vector>

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota::host {
namespace {

constexpr uint32_t kSector = Flash::kSectorSize;

uint32_t record_crc(const uint8_t* seq_and_length, const std::string& text) {
  uint32_t crc = crc32_le(UINT32_MAX, {seq_and_length, 8});
  return crc32_le(crc, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

}  // namespace

std::optional<FlashFleetJobStore> FlashFleetJobStore::open(Flash& flash, const PartitionTable& table,
                                                           std::string& why) {
  const Partition* part = table.find(kPartitionName);
  if (part == nullptr) {
    why = "the partition table has no 'fleet' partition (data, 0x51, 0x2000) for the fleet job record";
  } else if (part->type != static_cast<uint8_t>(PartitionType::kData) || part->size < 2 * kSector) {
    why = "the 'fleet' partition must be a data partition of at least two 4 KiB sectors";
  } else {
    return FlashFleetJobStore(FlashRegion(flash, part->offset, 2 * kSector));
  }
  return std::nullopt;
}

FlashFleetJobStore::Slot FlashFleetJobStore::read_slot(uint32_t index) {
  Slot slot;
  uint8_t header[kHeaderSize];
  if (!region_.read(index * kSector, {header, sizeof header}).is_ok()) return slot;
  const uint32_t length = load_le32(header + 8);
  if (load_le32(header) != kMagic || length > kMaxText) return slot;
  std::string text(length, '\0');
  if (!region_.read(index * kSector + kHeaderSize, {reinterpret_cast<uint8_t*>(text.data()), length}).is_ok())
    return slot;
  if (record_crc(header + 4, text) != load_le32(header + 12)) return slot;
  slot.valid = true;
  slot.seq = load_le32(header + 4);
  slot.text = std::move(text);
  return slot;
}

FleetJobRecord FlashFleetJobStore::load() {
  const Slot a = read_slot(0);
  const Slot b = read_slot(1);
  const Slot* newest = nullptr;
  if (a.valid && (!b.valid || a.seq > b.seq)) newest = &a;
  if (b.valid && (!a.valid || b.seq > a.seq)) newest = &b;
  if (newest == nullptr) return {};
  return FleetJobRecord::from_json(newest->text).value_or(FleetJobRecord{});
}

bool FlashFleetJobStore::save(const FleetJobRecord& record) {
  const std::string text = record.to_json();
  if (text.size() > kMaxText) return false;
  const Slot a = read_slot(0);
  const Slot b = read_slot(1);
  // Write over the older (or invalid) sector; the newest stays until the new one is whole.
  const bool write_b = a.valid && (!b.valid || a.seq > b.seq);
  const uint32_t seq = std::max(a.valid ? a.seq : 0, b.valid ? b.seq : 0) + 1;
  const uint32_t at = (write_b ? 1 : 0) * kSector;
  uint8_t header[kHeaderSize];
  store_le32(header, kMagic);
  store_le32(header + 4, seq);
  store_le32(header + 8, static_cast<uint32_t>(text.size()));
  store_le32(header + 12, record_crc(header + 4, text));
  const std::vector<uint8_t> body(text.begin(), text.end());
  return region_.erase(at, kSector).is_ok() &&
         (body.empty() || region_.program(at + kHeaderSize, {body.data(), body.size()}).is_ok()) &&
         region_.program(at, {header, sizeof header}).is_ok();
}

}  // namespace privota::host
