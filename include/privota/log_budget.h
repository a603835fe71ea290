// LogBudget: how much a user app may make the protected app print. A token bucket of bytes — a burst of
// `burst` bytes, then `rate` bytes per second — per source (its log call, its stdout, its stderr), so a
// flooding app cannot fill the device's log, its storage or the protected app's time. What does not fit is
// dropped and counted; the platform says how much was dropped once the source is within its budget again.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace privota {

struct LogBudgetLimits {
  uint32_t burst = 64 * 1024;  // bytes that may come at once
  uint32_t bytes_per_second = 16 * 1024;
};

class LogBudget {
 public:
  explicit LogBudget(const LogBudgetLimits& limits) : limits_(limits), tokens_(limits.burst) {}

  // Whether a line of `bytes` may be printed at `now_ms`; a refused one is counted as dropped.
  bool take(size_t bytes, uint64_t now_ms);

  // Lines and bytes dropped since the last call (the counts restart from zero).
  struct Dropped {
    uint32_t lines = 0;
    uint64_t bytes = 0;
  };
  Dropped take_dropped();
  bool dropping() const { return dropped_.lines > 0; }

 private:
  void refill(uint64_t now_ms);

  LogBudgetLimits limits_;
  uint64_t tokens_;
  uint64_t last_ms_ = 0;
  bool started_ = false;
  Dropped dropped_;
};

}  // namespace privota
