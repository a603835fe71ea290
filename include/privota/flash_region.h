// FlashRegion: a bounds-checked window [offset, offset + size) of a Flash, addressed from 0.
//
// A partition is handed to code as a FlashRegion, so a bug in, say, the OTA writer can at worst damage the
// partition it was given, never the bootloader, the table or the running app.
#pragma once

#include "privota/flash.h"

namespace privota {

class FlashRegion final : public Flash {
 public:
  FlashRegion() = default;
  // The window must lie inside `flash` and start on a sector boundary; otherwise the region is empty and
  // every call fails (check with valid()).
  FlashRegion(Flash& flash, uint32_t offset, uint32_t size);

  bool valid() const { return flash_ != nullptr; }
  uint32_t offset() const { return offset_; }
  uint32_t size() const override { return size_; }
  Status read(uint32_t addr, ByteSpan out) override;
  Status program(uint32_t addr, ConstByteSpan data) override;
  Status erase(uint32_t addr, uint32_t len) override;
  // A region is a window: exclusive use is the whole flash's.
  void acquire() override;
  void release() override;

 private:
  Flash* flash_ = nullptr;
  uint32_t offset_ = 0;
  uint32_t size_ = 0;
};

}  // namespace privota
