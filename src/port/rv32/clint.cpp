#include "privota/rv32/clint.h"

#include "privota/rv32/machine.h"
#include "privota/rv32/memory_map.h"

namespace privota::rv32 {
namespace {

constexpr uint32_t kMieMtie = 1u << 7;

void set_mtimecmp(uint64_t when) {
  volatile uint32_t* cmp = reinterpret_cast<volatile uint32_t*>(kClintMtimecmp);
  // Two 32-bit halves: park the high half at its maximum first, so no intermediate value fires early.
  cmp[1] = 0xFFFFFFFF;
  cmp[0] = static_cast<uint32_t>(when);
  cmp[1] = static_cast<uint32_t>(when >> 32);
}

}  // namespace

void timer_arm(uint32_t ticks) {
  set_mtimecmp(mtime() + ticks);
  __asm__ volatile("csrs mie, %0" ::"r"(kMieMtie));
}

void timer_disarm() {
  __asm__ volatile("csrc mie, %0" ::"r"(kMieMtie));
  set_mtimecmp(UINT64_MAX);
}

}  // namespace privota::rv32
