// The device's random numbers: a virtio entropy device (QEMU: -device virtio-rng-device), as the ESP32-C3
// has a hardware RNG. TLS key exchange and lwIP's initial sequence numbers draw from it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/status.h"

namespace privota::rv32::net {

// Finds and starts the entropy device. Call once before random_fill().
Status random_init();
// Fills `out` from the device (polled). kBadState before random_init().
Status random_fill(uint8_t* out, size_t length);

}  // namespace privota::rv32::net
