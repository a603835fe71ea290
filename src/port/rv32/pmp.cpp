#include "privota/rv32/pmp.h"

namespace privota::rv32 {
namespace {

constexpr uint32_t kPmpR = 1u << 0, kPmpW = 1u << 1, kPmpX = 1u << 2, kPmpNapot = 3u << 3,
                   kPmpLocked = 1u << 7;

// NAPOT: pmpaddr holds base/4 with the low bits set to encode the size (size/8 - 1 ones).
uint32_t napot(uintptr_t base, uint32_t size) {
  return static_cast<uint32_t>((base >> 2) | ((size >> 3) - 1));
}

}  // namespace

void pmp_allow_user_region(uintptr_t base, uint32_t size) {
  const uint32_t cfg = kPmpR | kPmpW | kPmpX | kPmpNapot;
  __asm__ volatile("csrw pmpaddr0, %0" ::"r"(napot(base, size)));
  __asm__ volatile("csrw pmpcfg0, %0" ::"r"(cfg));
  __asm__ volatile("fence" ::: "memory");
}

void pmp_seal(uintptr_t base, uint32_t size) {
  const uint32_t cfg = kPmpNapot | kPmpLocked;  // no R, W or X: nothing may access it
  __asm__ volatile("csrw pmpaddr1, %0" ::"r"(napot(base, size)));
  __asm__ volatile("csrs pmpcfg0, %0" ::"r"(cfg << 8));
  __asm__ volatile("fence" ::: "memory");
}

}  // namespace privota::rv32
