#include "privota/rv32/virtio_flash.h"

#include <string.h>

namespace privota::rv32 {
namespace {

constexpr uint32_t kBlock = VirtioBlock::kBlockSize;

uint32_t flash_size_of(const VirtioBlock& device) {
  const uint64_t bytes = device.blocks() * kBlock;
  const uint64_t max = 0xFFFFF000u;
  return static_cast<uint32_t>((bytes < max ? bytes : max) / Flash::kSectorSize * Flash::kSectorSize);
}

// The largest run of whole blocks starting at `addr` (block aligned) that stays inside the sector of `addr`
// and covers at most `len` bytes rounded up to blocks.
uint32_t blocks_run(uint32_t addr, uint32_t len) {
  const uint32_t sector_left = Flash::kSectorSize - addr % Flash::kSectorSize;
  const uint32_t wanted = (len + kBlock - 1) / kBlock * kBlock;
  return wanted < sector_left ? wanted : sector_left;
}

}  // namespace

VirtioFlash::VirtioFlash(VirtioBlock& device) : device_(device), size_(flash_size_of(device)) {}

Status VirtioFlash::read(uint32_t addr, ByteSpan out) {
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(out.size())));
  size_t done = 0;
  while (done < out.size()) {
    const uint32_t at = addr + static_cast<uint32_t>(done);
    const uint32_t first = at / kBlock * kBlock;
    const uint32_t skip = at - first;
    const uint32_t run = blocks_run(first, skip + static_cast<uint32_t>(out.size() - done));
    PRIVOTA_TRY(device_.read(first / kBlock, {sector_, run}));
    const size_t n = run - skip < out.size() - done ? run - skip : out.size() - done;
    memcpy(out.data() + done, sector_ + skip, n);
    done += n;
  }
  return Status::ok();
}

Status VirtioFlash::program(uint32_t addr, ConstByteSpan data) {
  PRIVOTA_TRY(check_flash_range(size_, addr, static_cast<uint32_t>(data.size())));
  size_t done = 0;
  while (done < data.size()) {
    const uint32_t at = addr + static_cast<uint32_t>(done);
    const uint32_t first = at / kBlock * kBlock;
    const uint32_t skip = at - first;
    const uint32_t run = blocks_run(first, skip + static_cast<uint32_t>(data.size() - done));
    PRIVOTA_TRY(device_.read(first / kBlock, {sector_, run}));
    const size_t n = run - skip < data.size() - done ? run - skip : data.size() - done;
    // NOR programming moves bits from 1 to 0 only.
    for (size_t i = 0; i < n; ++i)
      sector_[skip + i] &= data[done + i];
    PRIVOTA_TRY(device_.write(first / kBlock, {sector_, run}));
    done += n;
  }
  return Status::ok();
}

Status VirtioFlash::erase(uint32_t addr, uint32_t len) {
  PRIVOTA_TRY(check_flash_erase(size_, addr, len));
  memset(sector_, 0xFF, sizeof sector_);
  for (uint32_t at = addr; at < addr + len; at += kSectorSize)
    PRIVOTA_TRY(device_.write(at / kBlock, {sector_, kSectorSize}));
  return Status::ok();
}

}  // namespace privota::rv32
