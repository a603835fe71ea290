// PowerSupply: the simulated device's power, shared by all of its processes. One 16-byte word pair in a
// memfd that the sim creates and hands to the protected app: the count of flash writes so far (across the
// bootloader and the protected app, across boots) and the write at which the power is cut (0 = never).
#pragma once

#include <cstdint>

#include "privota/result.h"

namespace privota::host {

struct PowerState {
  uint64_t writes;  // flash writes (program, erase) of the whole device so far
  uint64_t cut_at;  // the write that loses power; 0 = never
};

class PowerSupply {
 public:
  // A new supply (the sim): cuts at write `cut_at` (0 = never).
  static Result<PowerSupply> create(uint64_t cut_at);
  // The supply behind an inherited fd (the protected app).
  static Result<PowerSupply> attach(int fd);

  PowerSupply() = default;
  PowerSupply(PowerSupply&& other) noexcept;
  PowerSupply& operator=(PowerSupply&& other) noexcept;
  PowerSupply(const PowerSupply&) = delete;
  PowerSupply& operator=(const PowerSupply&) = delete;
  ~PowerSupply();

  int fd() const { return fd_; }
  // Lives in shared memory: PowerCutFlash counts in state()->writes.
  PowerState* state() const { return state_; }
  bool cut_happened() const {
    return state_ != nullptr && state_->cut_at != 0 && state_->writes >= state_->cut_at;
  }

 private:
  PowerSupply(int fd, PowerState* state) : fd_(fd), state_(state) {}
  void reset();

  int fd_ = -1;
  PowerState* state_ = nullptr;
};

}  // namespace privota::host
