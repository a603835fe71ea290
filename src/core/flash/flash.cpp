#include "privota/flash.h"

namespace privota {

Status check_flash_range(uint32_t flash_size, uint32_t addr, uint32_t len) {
  // Written so that addr + len cannot overflow.
  if (addr > flash_size || len > flash_size - addr) {
    return Status::error(Code::kOutOfBounds, "flash access past the end of the device or region", addr);
  }
  return Status::ok();
}

Status check_flash_erase(uint32_t flash_size, uint32_t addr, uint32_t len) {
  PRIVOTA_TRY(check_flash_range(flash_size, addr, len));
  if (addr % Flash::kSectorSize != 0 || len % Flash::kSectorSize != 0) {
    return Status::error(Code::kMisaligned, "erase must start and end on a 4 KiB sector boundary", addr);
  }
  return Status::ok();
}

}  // namespace privota
