#include "privota/rv32/owner_request.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota::rv32 {

Result<const char*> decode_owner_request(ConstByteSpan block) {
  if (block.size() < kOwnerRequestSize || load_le32(block.data()) != kOwnerRequestMagic)
    return Status::error(Code::kNotFound, "no owner's request on this power-on");
  if (load_le16(block.data() + 4) != kOwnerRequestVersion)
    return Status::error(Code::kUnsupported, "owner's request block of an unknown version");
  if (crc32_le(0, block.first(kOwnerRequestCrcOffset)) != load_le32(block.data() + kOwnerRequestCrcOffset))
    return Status::error(Code::kBadChecksum, "owner's request block fails its CRC");
  const size_t length = load_le16(block.data() + 6);
  const char* url = reinterpret_cast<const char*>(block.data() + kOwnerRequestUrlOffset);
  if (length == 0 || length > kOwnerRequestUrlMax || url[length] != '\0' || memchr(url, 0, length) != nullptr)
    return Status::error(Code::kBadLength, "owner's request URL is not one NUL-terminated string");
  return url;
}

Status encode_owner_request(Span<const char> url, ByteSpan out) {
  if (out.size() < kOwnerRequestSize)
    return Status::error(Code::kInvalidArgument, "owner's request needs a 512-byte block");
  if (url.empty() || url.size() > kOwnerRequestUrlMax)
    return Status::error(Code::kLimitExceeded, "the protected-update URL must be 1 to 479 bytes");
  if (memchr(url.data(), 0, url.size()) != nullptr)
    return Status::error(Code::kInvalidArgument, "the protected-update URL holds a NUL");
  memset(out.data(), 0, kOwnerRequestSize);
  store_le32(out.data(), kOwnerRequestMagic);
  store_le16(out.data() + 4, kOwnerRequestVersion);
  store_le16(out.data() + 6, static_cast<uint16_t>(url.size()));
  memcpy(out.data() + kOwnerRequestUrlOffset, url.data(), url.size());
  store_le32(out.data() + kOwnerRequestCrcOffset, crc32_le(0, out.first(kOwnerRequestCrcOffset)));
  return Status::ok();
}

}  // namespace privota::rv32
