// The rv32 device's eFuse and configuration block: what a chip burns into eFuse (Secure Boot v2 key digests,
// the chip id) and the protected firmware's fixed configuration (the user-app CA, the supervision limits and
// the user app's arguments: device.json's user_app), in one 4 KiB block that QEMU places in RAM at
// kEfuseBase before reset (-device loader). Written on the host from device.json (privota-rv32-efuse), read
// by the bootloader and the protected firmware; the user app cannot reach it (PMP).
//
//   +0 u32 magic "PVEF"  +4 u16 version (3; 2 is still read: no network section)  +6 u8 secure boot enabled
//   +7 u8 key digest count (0..3) +8 key digests [3][32]  +104 u16 chip id  +106 u16 zero +108 u32
//   confirm_timeout_ms  +112 u32 crash_loop_limit  +116 u32 reboot_grace_ms +120 u32 user app argument bytes
//   +124 the arguments (argv[1..]), each NUL-terminated, at most 128 bytes +252 u32 user-app CA PEM length
//   (with its NUL)  +256 the PEM, NUL-terminated (at most 1792 bytes) The network section (version 3;
//   device.json's ota section), for the OTA service: +2048 u32 TLS CA PEM length (with its NUL; 0: no
//   network, every OTA job is refused) +2052 u16 allowed port count (0..4)  +2054 u16 allowed host bytes
//   +2056 u16 allowed ports[4] +2064 the allowed hosts, each NUL-terminated, at most 256 bytes  +2320 the TLS
//   CA PEM, NUL-terminated +4092 u32 crc32_le(0, bytes 0..4092)
// Freestanding (only core headers): both the firmware and the host tool compile it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/signed_image.h"
#include "privota/span.h"

namespace privota::rv32 {

constexpr size_t kEfuseBlockSize = 4096;
constexpr uint32_t kEfuseMagic = 0x46455650;  // "PVEF" little-endian
constexpr uint16_t kEfuseVersion = 3;
constexpr uint16_t kEfuseVersionNoNetwork = 2;
constexpr size_t kEfuseMaxKeys = 3;
constexpr size_t kEfuseArgsOffset = 124;
constexpr size_t kEfuseArgsMax = 128;
constexpr size_t kEfusePemOffset = 256;
constexpr size_t kEfuseCrcOffset = kEfuseBlockSize - 4;
constexpr size_t kEfuseNetOffset = 2048;
constexpr size_t kEfusePemMax = kEfuseNetOffset - kEfusePemOffset;
constexpr size_t kEfuseMaxPorts = 4;
constexpr size_t kEfuseHostsOffset = kEfuseNetOffset + 16;
constexpr size_t kEfuseHostsMax = 256;
constexpr size_t kEfuseTlsPemOffset = kEfuseHostsOffset + kEfuseHostsMax;
constexpr size_t kEfuseTlsPemMax = kEfuseCrcOffset - kEfuseTlsPemOffset;

struct EfuseBlock {
  bool secure_boot = true;
  uint8_t key_count = 0;
  KeyDigest keys[kEfuseMaxKeys];
  uint16_t chip_id = 0;
  ConstByteSpan ca_pem;  // NUL included; points into the block it was decoded from
  uint32_t confirm_timeout_ms = 10000;
  uint32_t crash_loop_limit = 3;
  uint32_t reboot_grace_ms = 1000;
  ConstByteSpan user_args;  // NUL-terminated strings back to back (empty: none); into the block
  // The OTA service's network configuration (empty TLS CA: none).
  ConstByteSpan tls_ca_pem;     // NUL included; into the block
  ConstByteSpan allowed_hosts;  // NUL-terminated names back to back (empty: no host allowed)
  uint16_t allowed_ports[kEfuseMaxPorts] = {};
  uint8_t port_count = 0;

  bool has_network() const { return !tls_ca_pem.empty(); }

  Span<const KeyDigest> trusted_keys() const { return {keys, key_count}; }
};

// Checks magic, version, counts, the PEM's NUL and the CRC.
Result<EfuseBlock> decode_efuse_block(ConstByteSpan block);
// Writes a full block (kEfuseBlockSize bytes); the PEMs are given without their NUL (`fields.tls_ca_pem`
// too), `fields.user_args` and `fields.allowed_hosts` as decoded (each string with its NUL).
Status encode_efuse_block(const EfuseBlock& fields, ConstByteSpan ca_pem, ByteSpan out);

}  // namespace privota::rv32
