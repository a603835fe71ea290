// LockedFlash: one flash, several threads (the system-call loop confirms apps while the OTA job writes).
// A real SPI flash driver serialises its commands the same way.
#pragma once

#include <mutex>

#include "privota/flash.h"

namespace privota::protected_app {

class LockedFlash final : public Flash {
 public:
  explicit LockedFlash(Flash& inner) : inner_(inner) {}

  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inner_.read(addr, out);
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inner_.program(addr, data);
  }
  Status erase(uint32_t addr, uint32_t len) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inner_.erase(addr, len);
  }

 private:
  Flash& inner_;
  std::mutex mutex_;
};

}  // namespace privota::protected_app
