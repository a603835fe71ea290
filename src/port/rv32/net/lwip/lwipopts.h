// lwIP 2.1.3 options for the rv32 device: no OS (NO_SYS: the firmware's main loop polls the virtio NIC and
// runs lwIP's timers from the CLINT clock), the raw TCP API only, IPv4 on QEMU's user-mode network with a
// static address (its DHCP server would work too, but the device's address is fixed by the test setup and
// one fewer exchange keeps the boot short). Memory is lwIP's own static pools: no libc heap.
#pragma once

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0  // one hart, and lwIP never runs in the trap handler
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0  // no DHCP, no DNS: the device resolves its update host from configuration
#define LWIP_DHCP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_TCP 1
#define LWIP_STATS 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0

// Memory: the heap holds TCP segments being sent; the pool holds received frames until TCP takes them.
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 4
#define MEM_SIZE (8 * 1024)
#define MEMP_NUM_TCP_PCB 2
#define MEMP_NUM_TCP_PCB_LISTEN 0
#define MEMP_NUM_TCP_SEG 16
#define PBUF_POOL_SIZE 12
#define PBUF_POOL_BUFSIZE 1536

// TCP: a window of four segments keeps a TLS record (16 KiB) flowing without holding it all in pbufs.
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (2 * TCP_MSS)
#define TCP_SND_QUEUELEN 8
#define LWIP_TCP_KEEPALIVE 0

// Checksums: the virtio NIC offers no offload we negotiate, so lwIP computes and checks them all.
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1

// Initial sequence numbers and local ports come from the device's RNG (virtio-rng), not from a constant.
#ifdef __cplusplus
extern "C"
#endif
    unsigned int
    privota_lwip_rand(void);
#define LWIP_RAND() privota_lwip_rand()
