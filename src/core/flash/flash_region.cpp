#include "privota/flash_region.h"

namespace privota {

FlashRegion::FlashRegion(Flash& flash, uint32_t offset, uint32_t size) {
  if (!check_flash_range(flash.size(), offset, size).is_ok() || offset % kSectorSize != 0) return;
  flash_ = &flash;
  offset_ = offset;
  size_ = size;
}

Status FlashRegion::read(uint32_t addr, ByteSpan out) {
  if (!valid()) return Status::error(Code::kBadState, "flash region does not lie inside the flash");
  if (out.size() > size_) return Status::error(Code::kOutOfBounds, "read larger than the region", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(out.size())));
  return flash_->read(offset_ + addr, out);
}

Status FlashRegion::program(uint32_t addr, ConstByteSpan data) {
  if (!valid()) return Status::error(Code::kBadState, "flash region does not lie inside the flash");
  if (data.size() > size_) return Status::error(Code::kOutOfBounds, "program larger than the region", addr);
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(data.size())));
  return flash_->program(offset_ + addr, data);
}

Status FlashRegion::erase(uint32_t addr, uint32_t len) {
  if (!valid()) return Status::error(Code::kBadState, "flash region does not lie inside the flash");
  PRIVOTA_TRY(check_flash_erase(size_, addr, len));
  return flash_->erase(offset_ + addr, len);
}

void FlashRegion::acquire() {
  if (valid()) flash_->acquire();
}

void FlashRegion::release() {
  if (valid()) flash_->release();
}

}  // namespace privota
