// LockedFlash: one flash, several threads (the system-call loop confirms apps while the OTA job writes).
// A real SPI flash driver serialises its commands the same way. One recursive lock serves both each call
// and the core's exclusive sections (Flash::acquire): a selection write of one thread never interleaves
// with another's, and every core function that writes a select partition holds it (ExclusiveFlash).
#pragma once

#include <mutex>

#include "privota/flash.h"

namespace privota::protected_app {

class LockedFlash final : public Flash {
 public:
  explicit LockedFlash(Flash& inner) : inner_(inner) {}

  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return inner_.read(addr, out);
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return inner_.program(addr, data);
  }
  Status erase(uint32_t addr, uint32_t len) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return inner_.erase(addr, len);
  }
  void acquire() override { mutex_.lock(); }
  void release() override { mutex_.unlock(); }

 private:
  Flash& inner_;
  std::recursive_mutex mutex_;
};

}  // namespace privota::protected_app
