#include "privota/host/timed_flash.h"

namespace privota::host {

Status TimedFlash::read(uint32_t addr, ByteSpan out) {
  PRIVOTA_TRY(inner_.read(addr, out));
  ++stats_.reads;
  stats_.bytes_read += out.size();
  stats_.device_us += static_cast<double>(out.size()) * timing_.read_us_per_byte;
  return Status::ok();
}

Status TimedFlash::program(uint32_t addr, ConstByteSpan data) {
  PRIVOTA_TRY(inner_.program(addr, data));
  ++stats_.programs;
  stats_.bytes_programmed += data.size();
  if (data.empty()) return Status::ok();
  const uint64_t first_page = addr / timing_.page_size;
  const uint64_t last_page = (addr + data.size() - 1) / timing_.page_size;
  const uint64_t pages = last_page - first_page + 1;
  stats_.pages_programmed += pages;
  stats_.device_us += static_cast<double>(pages) * timing_.page_program_us;
  return Status::ok();
}

Status TimedFlash::erase(uint32_t addr, uint32_t len) {
  PRIVOTA_TRY(inner_.erase(addr, len));
  stats_.bytes_erased += len;
  for (uint32_t at = addr; at < addr + len;) {
    if (at % kBlockSize == 0 && addr + len - at >= kBlockSize) {
      ++stats_.block_erases;
      stats_.device_us += timing_.block_erase_us;
      at += kBlockSize;
    } else {
      ++stats_.sector_erases;
      stats_.device_us += timing_.sector_erase_us;
      at += kSectorSize;
    }
  }
  return Status::ok();
}

}  // namespace privota::host
