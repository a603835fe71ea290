// A virtio block device on the virt machine's virtio-mmio transport (virtio 1.1, "modern" MMIO, version 2):
// one request queue, polled, one request at a time. Only what a flash driver needs: read and write whole
// 512-byte blocks.
//
// QEMU 7.2 offers the legacy interface (version 1) unless started with
// -global virtio-mmio.force-legacy=false; this driver refuses the legacy one with that advice.
#pragma once

#include <stdint.h>

#include "privota/result.h"
#include "privota/span.h"

namespace privota::rv32 {

class VirtioBlock {
 public:
  static constexpr uint32_t kBlockSize = 512;

  // Probes the virt machine's virtio-mmio slots for the first block device and initialises it.
  static Result<VirtioBlock*> find();

  uint64_t blocks() const { return blocks_; }
  bool read_only() const { return read_only_; }
  // `data` is a whole number of blocks.
  Status read(uint64_t block, ByteSpan data);
  Status write(uint64_t block, ConstByteSpan data);
  // Instructions retired while polling for the device's answers since reset (scripts/bench-rv32): under
  // QEMU they measure the host's latency, not the firmware's work.
  static uint32_t wait_instructions() { return wait_instructions_; }

 private:
  Status init(uintptr_t base);
  Status transfer(uint32_t type, uint64_t block, uint8_t* data, uint32_t len);

  uintptr_t base_ = 0;
  uint64_t blocks_ = 0;
  bool read_only_ = false;
  uint16_t next_avail_ = 0;
  uint16_t last_used_ = 0;
  static uint32_t wait_instructions_;
};

}  // namespace privota::rv32
