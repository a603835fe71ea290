#include "privota/rv32/virtio_block.h"

#include <string.h>

#include "privota/rv32/memory_map.h"

namespace privota::rv32 {
namespace {

uint32_t retired() {
  uint32_t count = 0;
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstret\n.option pop" : "=r"(count));
  return count;
}

// virtio-mmio registers (virtio 1.1, 4.2.2).
constexpr uint32_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kDeviceFeatures = 0x010,
                   kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
                   kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
                   kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
                   kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090,
                   kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0A0, kQueueDeviceHigh = 0x0A4,
                   kConfig = 0x100;
constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kBlockDeviceId = 2;
constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4, kStatusFeaturesOk = 8;
constexpr uint32_t kFeatureVersion1 = 1u << 0;  // bit 32: feature word 1, bit 0
constexpr uint32_t kBlkFeatureRo = 1u << 5;
constexpr uint32_t kBlkTypeIn = 0, kBlkTypeOut = 1;
constexpr uint16_t kDescNext = 1, kDescWrite = 2;

constexpr uint16_t kQueueSize = 4;  // one request of three descriptors at a time

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
struct Avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[kQueueSize];
};
struct UsedElem {
  uint32_t id;
  uint32_t len;
};
struct Used {
  uint16_t flags;
  uint16_t idx;
  UsedElem ring[kQueueSize];
};
struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

// The queue lives in static RAM: one device per firmware.
struct Queue {
  alignas(16) Desc desc[kQueueSize];
  alignas(2) Avail avail;
  alignas(4) Used used;
  RequestHeader header;
  uint8_t status;
};
Queue queue;
VirtioBlock device;

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

Result<VirtioBlock*> VirtioBlock::find() {
  for (uint32_t slot = 0; slot < kVirtioSlots; ++slot) {
    const uintptr_t base = kVirtioBase + slot * kVirtioStride;
    if (reg(base, kMagicValue) != kMagic || reg(base, kDeviceId) != kBlockDeviceId) continue;
    PRIVOTA_TRY(device.init(base));
    return &device;
  }
  return Status::error(Code::kNotFound, "no virtio block device (start QEMU with -device virtio-blk-device)");
}

Status VirtioBlock::init(uintptr_t base) {
  base_ = base;
  if (reg(base, kVersion) != 2) {
    return Status::error(Code::kUnsupported,
                         "legacy virtio-mmio; start QEMU with -global virtio-mmio.force-legacy=false");
  }
  set_reg(base, kStatus, 0);
  set_reg(base, kStatus, kStatusAcknowledge);
  set_reg(base, kStatus, kStatusAcknowledge | kStatusDriver);
  set_reg(base, kDeviceFeaturesSel, 0);
  read_only_ = (reg(base, kDeviceFeatures) & kBlkFeatureRo) != 0;
  set_reg(base, kDriverFeaturesSel, 0);
  set_reg(base, kDriverFeatures, read_only_ ? kBlkFeatureRo : 0);
  set_reg(base, kDriverFeaturesSel, 1);
  set_reg(base, kDriverFeatures, kFeatureVersion1);
  set_reg(base, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  if ((reg(base, kStatus) & kStatusFeaturesOk) == 0)
    return Status::error(Code::kUnsupported, "virtio block device refused our features");

  set_reg(base, kQueueSel, 0);
  if (reg(base, kQueueNumMax) < kQueueSize)
    return Status::error(Code::kUnsupported, "virtio block queue is too small");
  set_reg(base, kQueueNum, kQueueSize);
  set_reg(base, kQueueDescLow, low(queue.desc));
  set_reg(base, kQueueDescHigh, 0);
  set_reg(base, kQueueDriverLow, low(&queue.avail));
  set_reg(base, kQueueDriverHigh, 0);
  set_reg(base, kQueueDeviceLow, low(&queue.used));
  set_reg(base, kQueueDeviceHigh, 0);
  set_reg(base, kQueueReady, 1);
  set_reg(base, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  // virtio_blk_config starts with the capacity in 512-byte sectors (u64).
  blocks_ = (uint64_t{reg(base, kConfig + 4)} << 32) | reg(base, kConfig);
  return Status::ok();
}

Status VirtioBlock::read(uint64_t block, ByteSpan data) {
  return transfer(kBlkTypeIn, block, data.data(), static_cast<uint32_t>(data.size()));
}

Status VirtioBlock::write(uint64_t block, ConstByteSpan data) {
  if (read_only_) return Status::error(Code::kBadState, "the flash device is read-only");
  // The device only reads this buffer (no kDescWrite on it).
  return transfer(kBlkTypeOut, block, const_cast<uint8_t*>(data.data()), static_cast<uint32_t>(data.size()));
}

Status VirtioBlock::transfer(uint32_t type, uint64_t block, uint8_t* data, uint32_t len) {
  if (len == 0 || len % kBlockSize != 0)
    return Status::error(Code::kMisaligned, "virtio block transfer is not whole blocks", len);
  if (block > blocks_ || len / kBlockSize > blocks_ - block)
    return Status::error(Code::kOutOfBounds, "virtio block transfer past the device end");
  queue.header = {type, 0, block};
  queue.status = 0xFF;
  queue.desc[0] = {low(&queue.header), sizeof queue.header, kDescNext, 1};
  queue.desc[1] = {low(data), len, static_cast<uint16_t>(kDescNext | (type == kBlkTypeIn ? kDescWrite : 0)),
                   2};
  queue.desc[2] = {low(&queue.status), 1, kDescWrite, 0};
  queue.avail.ring[next_avail_ % kQueueSize] = 0;
  fence();
  queue.avail.idx = ++next_avail_;
  fence();
  set_reg(base_, kQueueNotify, 0);
  // Polled: the firmware has nothing else to do while its flash works, as on a chip's SPI flash. The
  // instructions spent waiting are counted apart: they depend on the host's load, not on the firmware.
  const uint32_t waiting_since = retired();
  while (*static_cast<volatile uint16_t*>(&queue.used.idx) == last_used_) {
  }
  wait_instructions_ += retired() - waiting_since;
  fence();
  ++last_used_;
  set_reg(base_, kInterruptAck, reg(base_, kInterruptStatus));
  if (*static_cast<volatile uint8_t*>(&queue.status) != 0)
    return Status::error(Code::kIoError, "virtio block request failed", static_cast<uint32_t>(block));
  return Status::ok();
}

uint32_t VirtioBlock::wait_instructions_ = 0;

}  // namespace privota::rv32
