#include "privota/rv32/pmp.h"

namespace privota::rv32 {
namespace {

constexpr uint32_t kPmpR = 1u << 0, kPmpW = 1u << 1, kPmpX = 1u << 2, kPmpNapot = 3u << 3;

}  // namespace

void pmp_allow_user_region(uintptr_t base, uint32_t size) {
  // NAPOT: pmpaddr holds base/4 with the low bits set to encode the size (size/8 - 1 ones).
  const uint32_t addr = static_cast<uint32_t>((base >> 2) | ((size >> 3) - 1));
  const uint32_t cfg = kPmpR | kPmpW | kPmpX | kPmpNapot;
  __asm__ volatile("csrw pmpaddr0, %0" ::"r"(addr));
  __asm__ volatile("csrw pmpcfg0, %0" ::"r"(cfg));
  __asm__ volatile("fence" ::: "memory");
}

}  // namespace privota::rv32
