#include "privota/rv32/net/virtio_mmio.h"

#include "privota/rv32/memory_map.h"

namespace privota::rv32::net {
namespace {

// virtio-mmio registers (virtio 1.1, 4.2.2).
constexpr uint32_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kDeviceFeatures = 0x010,
                   kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
                   kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
                   kQueueNotify = 0x050, kStatus = 0x070, kQueueDescLow = 0x080, kQueueDescHigh = 0x084,
                   kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0A0,
                   kQueueDeviceHigh = 0x0A4, kConfig = 0x100;
constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4, kStatusFeaturesOk = 8;
constexpr uint32_t kFeatureVersion1 = 1u << 0;  // bit 32: feature word 1, bit 0

uint32_t reg(uintptr_t base, uint32_t offset) {
  return *reinterpret_cast<volatile uint32_t*>(base + offset);
}
void set_reg(uintptr_t base, uint32_t offset, uint32_t value) {
  *reinterpret_cast<volatile uint32_t*>(base + offset) = value;
}
void fence() {
  __asm__ volatile("fence" ::: "memory");
}
uint32_t low(const void* p) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}

}  // namespace

Result<VirtioMmio> VirtioMmio::find(uint32_t device_id, const char* missing) {
  for (uint32_t slot = 0; slot < kVirtioSlots; ++slot) {
    const uintptr_t base = kVirtioBase + slot * kVirtioStride;
    if (reg(base, kMagicValue) != kMagic || reg(base, kDeviceId) != device_id) continue;
    if (reg(base, kVersion) != 2) {
      return Status::error(Code::kUnsupported,
                           "legacy virtio-mmio; start QEMU with -global virtio-mmio.force-legacy=false");
    }
    set_reg(base, kStatus, 0);
    set_reg(base, kStatus, kStatusAcknowledge);
    set_reg(base, kStatus, kStatusAcknowledge | kStatusDriver);
    return VirtioMmio(base);
  }
  return Status::error(Code::kNotFound, missing);
}

uint32_t VirtioMmio::device_features() const {
  set_reg(base_, kDeviceFeaturesSel, 0);
  return reg(base_, kDeviceFeatures);
}

Status VirtioMmio::negotiate(uint32_t features) {
  if ((device_features() & features) != features)
    return Status::error(Code::kUnsupported, "virtio device lacks a feature the driver needs", features);
  set_reg(base_, kDriverFeaturesSel, 0);
  set_reg(base_, kDriverFeatures, features);
  set_reg(base_, kDriverFeaturesSel, 1);
  set_reg(base_, kDriverFeatures, kFeatureVersion1);
  set_reg(base_, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  if ((reg(base_, kStatus) & kStatusFeaturesOk) == 0)
    return Status::error(Code::kUnsupported, "virtio device refused our features");
  return Status::ok();
}

Status VirtioMmio::setup(uint16_t index, uint16_t size, const void* desc, const void* avail,
                         const void* used) {
  set_reg(base_, kQueueSel, index);
  if (reg(base_, kQueueNumMax) < size)
    return Status::error(Code::kUnsupported, "virtio queue is smaller than the driver needs", index);
  set_reg(base_, kQueueNum, size);
  set_reg(base_, kQueueDescLow, low(desc));
  set_reg(base_, kQueueDescHigh, 0);
  set_reg(base_, kQueueDriverLow, low(avail));
  set_reg(base_, kQueueDriverHigh, 0);
  set_reg(base_, kQueueDeviceLow, low(used));
  set_reg(base_, kQueueDeviceHigh, 0);
  set_reg(base_, kQueueReady, 1);
  return Status::ok();
}

void VirtioMmio::driver_ok() {
  set_reg(base_, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
}

void VirtioMmio::publish(uint16_t index, uint16_t* avail_idx) {
  // The ring entry is written before the index that hands it over, and both before the notification.
  fence();
  *static_cast<volatile uint16_t*>(avail_idx) = static_cast<uint16_t>(*avail_idx + 1);
  fence();
  set_reg(base_, kQueueNotify, index);
}

uint16_t VirtioMmio::used_idx(const uint16_t* idx) {
  const uint16_t value = *static_cast<const volatile uint16_t*>(idx);
  fence();  // the used element is read after the index that says it is there
  return value;
}

uint32_t VirtioMmio::config32(uint32_t offset) const {
  return reg(base_, kConfig + offset);
}

uint8_t VirtioMmio::config8(uint32_t offset) const {
  return *reinterpret_cast<volatile uint8_t*>(base_ + kConfig + offset);
}

}  // namespace privota::rv32::net
