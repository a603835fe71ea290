#include "privota/rv32/net/virtio_rng.h"

#include "privota/rv32/net/virtio_mmio.h"

namespace privota::rv32::net {
namespace {

Virtqueue<2> queue;
VirtioMmio device;
bool ready = false;
uint8_t pool[64];

uint32_t low(const void* p) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}

}  // namespace

Status random_init() {
  PRIVOTA_ASSIGN_OR_RETURN(device, VirtioMmio::find(virtio_id::kRng,
                                                    "no virtio entropy device (start QEMU "
                                                    "with -device virtio-rng-device)"));
  PRIVOTA_TRY(device.negotiate(0));
  PRIVOTA_TRY(device.setup_queue(0, queue));
  device.driver_ok();
  ready = true;
  return Status::ok();
}

Status random_fill(uint8_t* out, size_t length) {
  if (!ready) return Status::error(Code::kBadState, "random_fill before random_init");
  while (length > 0) {
    queue.desc[0] = {low(pool), sizeof pool, kDescWrite, 0};
    device.offer(0, queue, 0);
    uint32_t id = 0;
    uint32_t got = 0;
    // Polled: QEMU's entropy backend answers at once.
    while (!VirtioMmio::take_used(queue, id, got)) {
    }
    if (got > sizeof pool) return Status::error(Code::kIoError, "virtio entropy device overran its buffer");
    const size_t n = got < length ? got : length;
    for (size_t i = 0; i < n; ++i)
      out[i] = pool[i];
    out += n;
    length -= n;
  }
  return Status::ok();
}

}  // namespace privota::rv32::net
