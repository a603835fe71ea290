// The parts of a virtio-mmio device (virtio 1.1, "modern" MMIO, version 2) the network drivers share:
// finding a device by id on the virt machine's slots, feature negotiation, and split virtqueues of a fixed
// size in static RAM, polled (no interrupts: the firmware's main loop asks).
#pragma once

#include <stdint.h>

#include "privota/result.h"

namespace privota::rv32::net {

namespace virtio_id {
constexpr uint32_t kNet = 1, kRng = 4;
}

struct VirtqDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
constexpr uint16_t kDescWrite = 2;  // the device writes this buffer

template <uint16_t N>
struct Virtqueue {
  static constexpr uint16_t kSize = N;
  alignas(16) VirtqDesc desc[N];
  alignas(2) struct {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[N];
  } avail;
  alignas(4) struct {
    uint16_t flags;
    uint16_t idx;
    struct {
      uint32_t id;
      uint32_t len;
    } ring[N];
  } used;
  uint16_t last_used;
};

class VirtioMmio {
 public:
  // The first device with `device_id` in the virt machine's slots, reset and acknowledged; `what` names
  // the QEMU option that adds it, for the error.
  static Result<VirtioMmio> find(uint32_t device_id, const char* missing);

  // Offers VIRTIO_F_VERSION_1 plus `features` (feature word 0) if the device has them all.
  Status negotiate(uint32_t features);
  uint32_t device_features() const;
  template <uint16_t N>
  Status setup_queue(uint16_t index, Virtqueue<N>& queue) {
    return setup(index, N, queue.desc, &queue.avail, &queue.used);
  }
  // After every queue is set up: the device may start.
  void driver_ok();

  // Makes descriptor `id` available on `queue` and tells the device.
  template <uint16_t N>
  void offer(uint16_t index, Virtqueue<N>& queue, uint16_t id) {
    queue.avail.ring[queue.avail.idx % N] = id;
    publish(index, &queue.avail.idx);
  }
  // The next used descriptor of `queue`, or false when the device has returned none since the last call.
  template <uint16_t N>
  static bool take_used(Virtqueue<N>& queue, uint32_t& id, uint32_t& len) {
    if (used_idx(&queue.used.idx) == queue.last_used) return false;
    const uint16_t slot = queue.last_used++ % N;
    id = queue.used.ring[slot].id;
    len = queue.used.ring[slot].len;
    return true;
  }

  uint32_t config32(uint32_t offset) const;
  uint8_t config8(uint32_t offset) const;

  VirtioMmio() = default;

 private:
  explicit VirtioMmio(uintptr_t base) : base_(base) {}
  Status setup(uint16_t index, uint16_t size, const void* desc, const void* avail, const void* used);
  void publish(uint16_t index, uint16_t* avail_idx);
  static uint16_t used_idx(const uint16_t* idx);

  uintptr_t base_ = 0;
};

}  // namespace privota::rv32::net
