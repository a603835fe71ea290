#include "privota/rv32/efuse_block.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota::rv32 {
namespace {

bool is_strings(const uint8_t* at, size_t length) {
  return length == 0 || at[length - 1] == 0;
}

Status decode_network(ConstByteSpan block, EfuseBlock& out) {
  const uint8_t* b = block.data() + kEfuseNetOffset;
  const uint32_t pem_len = load_le32(b);
  const uint16_t ports = load_le16(b + 4);
  const uint16_t hosts = load_le16(b + 6);
  if (pem_len == 0) return Status::ok();
  if (pem_len > kEfuseTlsPemMax || block[kEfuseTlsPemOffset + pem_len - 1] != 0 ||
      memchr(block.data() + kEfuseTlsPemOffset, 0, pem_len - 1) != nullptr)
    return Status::error(Code::kBadLength, "eFuse block's TLS CA is not one NUL-terminated PEM");
  if (ports > kEfuseMaxPorts) return Status::error(Code::kLimitExceeded, "eFuse block holds at most 4 ports");
  if (hosts > kEfuseHostsMax || !is_strings(block.data() + kEfuseHostsOffset, hosts))
    return Status::error(Code::kBadLength, "eFuse block's allowed hosts are not NUL-terminated names");
  out.tls_ca_pem = block.subspan(kEfuseTlsPemOffset, pem_len);
  out.allowed_hosts = block.subspan(kEfuseHostsOffset, hosts);
  out.port_count = static_cast<uint8_t>(ports);
  for (size_t i = 0; i < ports; ++i)
    out.allowed_ports[i] = load_le16(b + 8 + 2 * i);
  return Status::ok();
}

Status encode_network(const EfuseBlock& fields, uint8_t* b) {
  const ConstByteSpan pem = fields.tls_ca_pem;
  if (pem.empty()) return Status::ok();
  if (pem.size() + 1 > kEfuseTlsPemMax)
    return Status::error(Code::kLimitExceeded,
                         "the TLS CA does not fit the eFuse block (1771 bytes at most)");
  if (memchr(pem.data(), 0, pem.size()) != nullptr)
    return Status::error(Code::kInvalidArgument, "the TLS CA PEM holds a NUL");
  if (fields.port_count > kEfuseMaxPorts)
    return Status::error(Code::kLimitExceeded, "at most 4 allowed ports fit the eFuse block");
  const ConstByteSpan hosts = fields.allowed_hosts;
  if (hosts.size() > kEfuseHostsMax)
    return Status::error(Code::kLimitExceeded, "the allowed hosts exceed 256 bytes");
  if (!is_strings(hosts.data(), hosts.size()))
    return Status::error(Code::kInvalidArgument, "the allowed hosts must each end with a NUL");
  store_le32(b + kEfuseNetOffset, static_cast<uint32_t>(pem.size() + 1));
  store_le16(b + kEfuseNetOffset + 4, fields.port_count);
  store_le16(b + kEfuseNetOffset + 6, static_cast<uint16_t>(hosts.size()));
  for (size_t i = 0; i < fields.port_count; ++i)
    store_le16(b + kEfuseNetOffset + 8 + 2 * i, fields.allowed_ports[i]);
  if (!hosts.empty()) memcpy(b + kEfuseHostsOffset, hosts.data(), hosts.size());
  memcpy(b + kEfuseTlsPemOffset, pem.data(), pem.size());
  return Status::ok();
}

}  // namespace

Result<EfuseBlock> decode_efuse_block(ConstByteSpan block) {
  if (block.size() < kEfuseBlockSize) return Status::error(Code::kTruncated, "eFuse block is short");
  const uint8_t* b = block.data();
  if (load_le32(b) != kEfuseMagic) return Status::error(Code::kBadMagic, "no eFuse block (magic PVEF)");
  const uint16_t version = load_le16(b + 4);
  if (version != kEfuseVersion && version != kEfuseVersionNoNetwork)
    return Status::error(Code::kUnsupported,
                         "eFuse block version (2 or 3; rewrite it with privota-rv32-efuse)");
  if (crc32_le(0, block.first(kEfuseCrcOffset)) != load_le32(b + kEfuseCrcOffset))
    return Status::error(Code::kBadChecksum, "eFuse block CRC does not match");
  EfuseBlock out;
  out.secure_boot = b[6] != 0;
  out.key_count = b[7];
  if (out.key_count > kEfuseMaxKeys) return Status::error(Code::kLimitExceeded, "eFuse holds at most 3 keys");
  for (size_t i = 0; i < kEfuseMaxKeys; ++i)
    memcpy(out.keys[i].bytes, b + 8 + 32 * i, 32);
  out.chip_id = load_le16(b + 104);
  out.confirm_timeout_ms = load_le32(b + 108);
  out.crash_loop_limit = load_le32(b + 112);
  out.reboot_grace_ms = load_le32(b + 116);
  const uint32_t args_len = load_le32(b + 120);
  if (args_len > kEfuseArgsMax || (args_len > 0 && b[kEfuseArgsOffset + args_len - 1] != 0))
    return Status::error(Code::kBadLength, "eFuse block's user app arguments are not NUL-terminated strings");
  out.user_args = block.subspan(kEfuseArgsOffset, args_len);
  const uint32_t pem_len = load_le32(b + kEfusePemOffset - 4);
  if (pem_len == 0 || pem_len > kEfusePemMax || b[kEfusePemOffset + pem_len - 1] != 0 ||
      memchr(b + kEfusePemOffset, 0, pem_len - 1) != nullptr) {
    return Status::error(Code::kBadLength, "eFuse block's user-app CA is not one NUL-terminated PEM");
  }
  out.ca_pem = block.subspan(kEfusePemOffset, pem_len);
  if (version == kEfuseVersion) {
    const Status net = decode_network(block, out);
    if (!net.is_ok()) return net;
  }
  return out;
}

Status encode_efuse_block(const EfuseBlock& fields, ConstByteSpan ca_pem, ByteSpan out) {
  if (out.size() < kEfuseBlockSize)
    return Status::error(Code::kInvalidArgument, "eFuse block buffer is short");
  if (fields.key_count > kEfuseMaxKeys) return Status::error(Code::kLimitExceeded, "at most 3 key digests");
  if (ca_pem.empty() || ca_pem.size() + 1 > kEfusePemMax)
    return Status::error(Code::kLimitExceeded,
                         "the user-app CA does not fit the eFuse block (1791 bytes at most)");
  if (memchr(ca_pem.data(), 0, ca_pem.size()) != nullptr)
    return Status::error(Code::kInvalidArgument, "the user-app CA PEM holds a NUL");
  const ConstByteSpan args = fields.user_args;
  if (args.size() > kEfuseArgsMax)
    return Status::error(Code::kLimitExceeded, "the user app's arguments exceed 128 bytes");
  if (!args.empty() && args[args.size() - 1] != 0)
    return Status::error(Code::kInvalidArgument, "the user app's arguments must each end with a NUL");
  uint8_t* b = out.data();
  memset(b, 0, kEfuseBlockSize);
  store_le32(b, kEfuseMagic);
  store_le16(b + 4, kEfuseVersion);
  b[6] = fields.secure_boot ? 1 : 0;
  b[7] = fields.key_count;
  for (size_t i = 0; i < fields.key_count; ++i)
    memcpy(b + 8 + 32 * i, fields.keys[i].bytes, 32);
  store_le16(b + 104, fields.chip_id);
  store_le32(b + 108, fields.confirm_timeout_ms);
  store_le32(b + 112, fields.crash_loop_limit);
  store_le32(b + 116, fields.reboot_grace_ms);
  store_le32(b + 120, static_cast<uint32_t>(args.size()));
  if (!args.empty()) memcpy(b + kEfuseArgsOffset, args.data(), args.size());
  store_le32(b + kEfusePemOffset - 4, static_cast<uint32_t>(ca_pem.size() + 1));
  memcpy(b + kEfusePemOffset, ca_pem.data(), ca_pem.size());
  const Status net = encode_network(fields, b);
  if (!net.is_ok()) return net;
  store_le32(b + kEfuseCrcOffset, crc32_le(0, out.first(kEfuseCrcOffset)));
  return Status::ok();
}

}  // namespace privota::rv32
