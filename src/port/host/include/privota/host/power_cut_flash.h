// PowerCutFlash: cuts the power in the middle of the N-th flash write.
//
// Only operations that change the flash (program, erase) count: a read changes nothing, so a cut during a
// read leaves the same flash as a cut just before the next write. The N-th operation is left half done the
// way NOR fails: a program stops part-way (a prefix written, the next byte with only some of its bits
// cleared); an erase stops part-way (earlier sectors erased, the current one holding random bits). From then
// on every call fails with Code::kPowerLost, as a dead chip would.
#pragma once

#include <cstdint>
#include <functional>
#include <random>

#include "privota/flash.h"

namespace privota::host {

class PowerCutFlash final : public Flash {
 public:
  // cut_at = 0 never cuts (the decorator then only counts writes).
  PowerCutFlash(Flash& inner, uint64_t cut_at, uint64_t seed = 1);
  // Counts in `*shared_writes` instead of its own counter: the device's processes (bootloader, protected
  // app) share one count through shared memory, so "the N-th write" means the N-th of the whole device.
  PowerCutFlash(Flash& inner, uint64_t* shared_writes, uint64_t cut_at, uint64_t seed = 1);
  PowerCutFlash(const PowerCutFlash&) = delete;  // count_ may point at this object's own counter
  PowerCutFlash& operator=(const PowerCutFlash&) = delete;

  // Called once, right after the half-done operation reached the flash (the sim exits here).
  void on_power_cut(std::function<void()> hook) { hook_ = std::move(hook); }

  uint64_t writes() const { return *count_; }
  bool power_lost() const { return lost_; }

  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override;
  Status program(uint32_t addr, ConstByteSpan data) override;
  Status erase(uint32_t addr, uint32_t len) override;

 private:
  bool cut_now();
  Status lose_power();
  void program_half(uint32_t addr, ConstByteSpan data);
  void erase_half(uint32_t addr, uint32_t len);

  Flash& inner_;
  uint64_t cut_at_;
  uint64_t writes_ = 0;
  uint64_t* count_ = &writes_;
  bool lost_ = false;
  std::mt19937_64 random_;
  std::function<void()> hook_;
};

}  // namespace privota::host
