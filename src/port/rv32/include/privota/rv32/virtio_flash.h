// The device's SPI NOR flash, kept on a virtio block device (QEMU virt has no SPI NOR): the same 4 MiB
// flash file as privota-sim's host device. The block device can overwrite anything; this driver is what
// makes it behave like NOR (include/privota/flash.h):
//   - erase sets whole, aligned 4 KiB sectors to 0xFF;
//   - program ANDs the new bytes into what is there, so it can only clear bits;
//   - every call is checked against the flash size with the core's shared checks.
// A program rewrites only the 512-byte blocks it touches (read, AND, write back).
#pragma once

#include "privota/flash.h"
#include "privota/rv32/virtio_block.h"

namespace privota::rv32 {

class VirtioFlash final : public Flash {
 public:
  // The flash is the first 4 KiB multiple of the block device (at most 4 GiB - 4 KiB).
  explicit VirtioFlash(VirtioBlock& device);

  uint32_t size() const override { return size_; }
  Status read(uint32_t addr, ByteSpan out) override;
  Status program(uint32_t addr, ConstByteSpan data) override;
  Status erase(uint32_t addr, uint32_t len) override;

 private:
  VirtioBlock& device_;
  uint32_t size_ = 0;
  // One 4 KiB bounce buffer: requests go to the device in whole blocks, at most a sector at a time.
  alignas(8) uint8_t sector_[kSectorSize] = {};
};

}  // namespace privota::rv32
