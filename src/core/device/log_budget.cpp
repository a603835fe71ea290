#include "privota/log_budget.h"

namespace privota {

void LogBudget::refill(uint64_t now_ms) {
  if (!started_ || now_ms < last_ms_) {  // the first call, or a clock that went back: nothing to add
    started_ = true;
    last_ms_ = now_ms;
    return;
  }
  const uint64_t earned = (now_ms - last_ms_) * limits_.bytes_per_second / 1000;
  if (earned == 0) return;  // keep last_ms_ so that slow trickles still add up
  tokens_ = tokens_ + earned > limits_.burst ? limits_.burst : tokens_ + earned;
  last_ms_ = now_ms;
}

bool LogBudget::take(size_t bytes, uint64_t now_ms) {
  refill(now_ms);
  // A line never costs more than the whole burst: one longer line still gets through a full bucket.
  const uint64_t cost = bytes > limits_.burst ? limits_.burst : bytes;
  if (cost <= tokens_) {
    tokens_ -= cost;
    return true;
  }
  ++dropped_.lines;
  dropped_.bytes += bytes;
  return false;
}

LogBudget::Dropped LogBudget::take_dropped() {
  const Dropped dropped = dropped_;
  dropped_ = Dropped{};
  return dropped;
}

}  // namespace privota
