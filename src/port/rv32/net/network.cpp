#include "privota/rv32/net/network.h"

#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>
#include <string.h>

#include "privota/rv32/console.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/net/virtio_mmio.h"
#include "privota/rv32/net/virtio_rng.h"

namespace privota::rv32::net {
namespace {

constexpr uint32_t kNetFeatureMac = 1u << 5;  // VIRTIO_NET_F_MAC: the MAC address is in the config space
// With VIRTIO_F_VERSION_1 every frame is preceded by this header (virtio 1.1, 5.1.6), num_buffers included.
constexpr uint32_t kHeaderBytes = 12;
constexpr uint32_t kFrameBytes = 1514;  // Ethernet without FCS, MTU 1500
constexpr uint16_t kReceiveQueue = 0, kTransmitQueue = 1;
constexpr uint16_t kBuffers = 8;

struct Buffer {
  alignas(4) uint8_t bytes[kHeaderBytes + kFrameBytes];
};

Virtqueue<kBuffers> receive_queue;
Virtqueue<kBuffers> transmit_queue;
Buffer receive_buffers[kBuffers];
Buffer transmit_buffers[kBuffers];
uint16_t transmit_free = kBuffers;  // buffers not with the device
uint16_t transmit_next = 0;         // the next one to fill (they come back in order)
VirtioMmio device;
netif interface;
void (*wait_hook)() = nullptr;  // set_network_wait_hook

uint32_t low(const void* p) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}

void reclaim_transmitted() {
  uint32_t id = 0;
  uint32_t len = 0;
  while (VirtioMmio::take_used(transmit_queue, id, len))
    ++transmit_free;
}

// lwIP hands a frame to send: copied whole into a free transmit buffer behind a zero header (no offloads).
err_t link_output(netif*, pbuf* frame) {
  if (frame->tot_len > kFrameBytes) return ERR_BUF;
  // The device sends at once; a full ring only waits for its previous frames.
  do {
    reclaim_transmitted();
  } while (transmit_free == 0);
  const uint16_t id = transmit_next;
  transmit_next = static_cast<uint16_t>((transmit_next + 1) % kBuffers);
  --transmit_free;
  uint8_t* bytes = transmit_buffers[id].bytes;
  memset(bytes, 0, kHeaderBytes);
  pbuf_copy_partial(frame, bytes + kHeaderBytes, frame->tot_len, 0);
  transmit_queue.desc[id] = {low(bytes), kHeaderBytes + frame->tot_len, 0, 0};
  device.offer(kTransmitQueue, transmit_queue, id);
  return ERR_OK;
}

err_t interface_init(netif* nif) {
  nif->name[0] = 'v';
  nif->name[1] = 'n';
  nif->output = etharp_output;
  nif->linkoutput = link_output;
  nif->mtu = 1500;
  nif->hwaddr_len = ETH_HWADDR_LEN;
  for (uint32_t i = 0; i < ETH_HWADDR_LEN; ++i)
    nif->hwaddr[i] = device.config8(i);
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

void offer_receive_buffer(uint16_t id) {
  receive_queue.desc[id] = {low(receive_buffers[id].bytes), sizeof receive_buffers[id].bytes, kDescWrite, 0};
  device.offer(kReceiveQueue, receive_queue, id);
}

ip4_addr_t to_lwip(uint32_t address) {
  ip4_addr_t out;
  IP4_ADDR(&out, address >> 24, (address >> 16) & 0xFF, (address >> 8) & 0xFF, address & 0xFF);
  return out;
}

}  // namespace

Status network_init(const NetworkConfig& config) {
  PRIVOTA_TRY(random_init());
  PRIVOTA_ASSIGN_OR_RETURN(device, VirtioMmio::find(virtio_id::kNet,
                                                    "no virtio network device (start QEMU "
                                                    "with -device virtio-net-device)"));
  PRIVOTA_TRY(device.negotiate(kNetFeatureMac));
  PRIVOTA_TRY(device.setup_queue(kReceiveQueue, receive_queue));
  PRIVOTA_TRY(device.setup_queue(kTransmitQueue, transmit_queue));
  device.driver_ok();
  for (uint16_t id = 0; id < kBuffers; ++id)
    offer_receive_buffer(id);

  lwip_init();
  const ip4_addr_t address = to_lwip(config.address);
  const ip4_addr_t netmask = to_lwip(config.netmask);
  const ip4_addr_t gateway = to_lwip(config.gateway);
  if (netif_add(&interface, &address, &netmask, &gateway, nullptr, interface_init, ethernet_input) == nullptr)
    return Status::error(Code::kIoError, "lwIP refused the network interface");
  netif_set_default(&interface);
  netif_set_up(&interface);
  return Status::ok();
}

void network_wait() {
  network_poll();
  if (wait_hook != nullptr) wait_hook();
}

void set_network_wait_hook(void (*hook)()) {
  wait_hook = hook;
}

void network_poll() {
  uint32_t id = 0;
  uint32_t len = 0;
  while (VirtioMmio::take_used(receive_queue, id, len)) {
    if (id < kBuffers && len > kHeaderBytes && len <= sizeof(Buffer)) {
      const uint16_t frame_bytes = static_cast<uint16_t>(len - kHeaderBytes);
      // A frame lwIP has no pool buffer for is dropped, as a NIC drops on a full ring; TCP resends.
      pbuf* frame = pbuf_alloc(PBUF_RAW, frame_bytes, PBUF_POOL);
      if (frame != nullptr) {
        pbuf_take(frame, receive_buffers[id].bytes + kHeaderBytes, frame_bytes);
        if (interface.input(frame, &interface) != ERR_OK) pbuf_free(frame);
      }
    }
    if (id < kBuffers) offer_receive_buffer(static_cast<uint16_t>(id));
  }
  reclaim_transmitted();
  sys_check_timeouts();
}

uint32_t now_ms() {
  return static_cast<uint32_t>(mtime() / (kClintHz / 1000));
}

}  // namespace privota::rv32::net

extern "C" {

u32_t sys_now(void) {
  return privota::rv32::net::now_ms();
}

unsigned int privota_lwip_rand(void) {
  uint32_t value = 0;
  // network_init() starts the RNG before lwIP; only a failing device falls back to the clock.
  if (!privota::rv32::net::random_fill(reinterpret_cast<uint8_t*>(&value), sizeof value).is_ok())
    value = static_cast<uint32_t>(privota::rv32::mtime());
  return value;
}

void privota_lwip_assert(const char* message, const char* file, int line) {
  privota::rv32::console::write("lwip: assertion failed: ");
  privota::rv32::console::write(message);
  privota::rv32::console::write(" at ");
  privota::rv32::console::write(file);
  privota::rv32::console::write(":");
  privota::rv32::console::write_dec(static_cast<uint32_t>(line));
  privota::rv32::console::put('\n');
  privota::rv32::power_off(3);
}
}
