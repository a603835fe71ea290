// RamFlash: a NOR flash in memory for core tests that need no file. Same rules as FileFlash.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "privota/flash.h"

namespace privota::test {

class RamFlash final : public Flash {
 public:
  explicit RamFlash(uint32_t size) : cells_(size, 0xFF) {}
  uint32_t size() const override { return static_cast<uint32_t>(cells_.size()); }
  Status read(uint32_t addr, ByteSpan out) override {
    PRIVOTA_TRY(check_flash_range(size(), addr, static_cast<uint32_t>(out.size())));
    std::copy_n(cells_.begin() + addr, out.size(), out.begin());
    return Status::ok();
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    PRIVOTA_TRY(check_flash_range(size(), addr, static_cast<uint32_t>(data.size())));
    for (size_t i = 0; i < data.size(); ++i)
      cells_[addr + i] &= data[i];
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

}  // namespace privota::test
