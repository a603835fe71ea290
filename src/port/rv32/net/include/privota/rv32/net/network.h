// The device's IPv4 network: lwIP 2.1.3 without an OS over the virtio NIC (QEMU: -device
// virtio-net-device,netdev=...), driven by polling. poll() moves received frames into lwIP and runs its
// timers from the CLINT clock; whoever waits for the network (TCP, TLS, HTTP) calls it in its loop, so the
// firmware's main loop decides when the network runs.
#pragma once

#include <stdint.h>

#include "privota/status.h"

namespace privota::rv32::net {

struct NetworkConfig {
  uint32_t address = 0;  // host byte order, e.g. 10.0.2.15 on QEMU's user network
  uint32_t netmask = 0;
  uint32_t gateway = 0;
};

constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

// Starts the RNG (virtio_rng.h), finds the NIC, starts lwIP and brings the interface up. Call once.
Status network_init(const NetworkConfig& config);
// Delivers what the NIC received to lwIP and runs lwIP's due timers. Cheap when nothing happened.
void network_poll();
// What every wait for the network (TCP connect, send, receive; so TLS and HTTP too) calls in its loop:
// network_poll(), then the wait hook if one is set. A background job sets the hook to give the CPU back to
// the main loop while it waits (src/port/rv32/ota); without one a wait spins on network_poll().
void network_wait();
void set_network_wait_hook(void (*hook)());
// Milliseconds since boot (CLINT mtime), lwIP's sys_now().
uint32_t now_ms();

}  // namespace privota::rv32::net
