#include "privota/app_image.h"

namespace privota {

Result<AppImageInfo> read_app_image(Flash& region, Sha256& sha256, AppImageLimits limits) {
  if (limits.max_image_size == 0 || limits.max_image_size > region.size())
    limits.max_image_size = region.size();
  AppImageValidator validator(sha256, limits);
  // Small chunks keep the stack bounded on a device; the validator does not care about chunk sizes.
  uint8_t chunk[256];
  uint32_t addr = 0;
  while (!validator.done()) {
    const uint32_t left = region.size() - addr;
    if (left == 0) return Status::error(Code::kTruncated, "image runs to the end of its partition", addr);
    const uint32_t n = left < sizeof chunk ? left : static_cast<uint32_t>(sizeof chunk);
    PRIVOTA_TRY(region.read(addr, ByteSpan(chunk, n)));
    Result<size_t> used = validator.update(ConstByteSpan(chunk, n));
    if (!used.is_ok()) return used.status();
    addr += n;
  }
  return validator.info();
}

}  // namespace privota
