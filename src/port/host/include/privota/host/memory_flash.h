// MemoryFlash: a NOR flash held in memory, with the same rules as FileFlash. Tools use it to run core code
// that reads flash (image and signature verification) over a file's bytes; tests use it where a file adds
// nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "privota/flash.h"

namespace privota::host {

class MemoryFlash final : public Flash {
 public:
  // `size` erased bytes.
  explicit MemoryFlash(uint32_t size) : cells_(size, 0xFF) {}
  // Exactly these bytes (any length; erase still works on whole 4 KiB sectors only).
  explicit MemoryFlash(std::vector<uint8_t> bytes) : cells_(std::move(bytes)) {}

  uint32_t size() const override { return static_cast<uint32_t>(cells_.size()); }
  Status read(uint32_t addr, ByteSpan out) override {
    if (out.size() > size()) return Status::error(Code::kOutOfBounds, "read larger than the flash", addr);
    PRIVOTA_TRY(check_flash_range(size(), addr, static_cast<uint32_t>(out.size())));
    std::copy_n(cells_.begin() + addr, out.size(), out.begin());
    return Status::ok();
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    if (data.size() > size()) return Status::error(Code::kOutOfBounds, "program larger than the flash", addr);
    PRIVOTA_TRY(check_flash_range(size(), addr, static_cast<uint32_t>(data.size())));
    for (size_t i = 0; i < data.size(); ++i)
      cells_[addr + i] &= data[i];  // NOR: bits only clear
    return Status::ok();
  }
  Status erase(uint32_t addr, uint32_t len) override {
    PRIVOTA_TRY(check_flash_erase(size(), addr, len));
    std::fill_n(cells_.begin() + addr, len, 0xFF);
    return Status::ok();
  }

  std::vector<uint8_t>& cells() { return cells_; }

 private:
  std::vector<uint8_t> cells_;
};

}  // namespace privota::host
