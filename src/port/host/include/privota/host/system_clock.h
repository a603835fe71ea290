// SystemClock: the host's Clock (privota/transport.h): a monotonic clock, and sleeps that finish even when a
// signal interrupts them.
#pragma once

#include "privota/transport.h"

namespace privota::host {

class SystemClock final : public Clock {
 public:
  uint64_t now_ms() override;
  void sleep_ms(uint32_t ms) override;
};

}  // namespace privota::host
