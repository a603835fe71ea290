#include "privota/rv32/efuse_block.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota::rv32 {

Result<EfuseBlock> decode_efuse_block(ConstByteSpan block) {
  if (block.size() < kEfuseBlockSize) return Status::error(Code::kTruncated, "eFuse block is short");
  const uint8_t* b = block.data();
  if (load_le32(b) != kEfuseMagic) return Status::error(Code::kBadMagic, "no eFuse block (magic PVEF)");
  if (load_le16(b + 4) != kEfuseVersion) return Status::error(Code::kUnsupported, "eFuse block version");
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
  return out;
}

Status encode_efuse_block(const EfuseBlock& fields, ConstByteSpan ca_pem, ByteSpan out) {
  if (out.size() < kEfuseBlockSize)
    return Status::error(Code::kInvalidArgument, "eFuse block buffer is short");
  if (fields.key_count > kEfuseMaxKeys) return Status::error(Code::kLimitExceeded, "at most 3 key digests");
  if (ca_pem.empty() || ca_pem.size() + 1 > kEfusePemMax)
    return Status::error(Code::kLimitExceeded, "the user-app CA does not fit the eFuse block");
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
  store_le32(b + kEfuseCrcOffset, crc32_le(0, out.first(kEfuseCrcOffset)));
  return Status::ok();
}

}  // namespace privota::rv32
