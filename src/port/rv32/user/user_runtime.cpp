// The C++ runtime a U-mode user app needs without libstdc++, and the ecall transport of system calls.
#include "privota/rv32/user_ecall.h"

extern "C" {
using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

void privota_rv32_run_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c)
    (*c)();
}

[[noreturn]] void __cxa_pure_virtual() {
  privota::rv32::user_exit(0x7F);
}
}

namespace privota::rv32 {

int user_ecall(const uint8_t* request, uint8_t* response) {
  register uintptr_t a0 __asm__("a0") = reinterpret_cast<uintptr_t>(request);
  register uintptr_t a1 __asm__("a1") = reinterpret_cast<uintptr_t>(response);
  register uintptr_t a7 __asm__("a7") = kEcallFrame;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a7) : "memory");
  return static_cast<int>(a0);
}

void user_exit(int code) {
  register uintptr_t a0 __asm__("a0") = static_cast<uintptr_t>(code);
  register uintptr_t a7 __asm__("a7") = kEcallExit;
  __asm__ volatile("ecall" ::"r"(a0), "r"(a7) : "memory");
  for (;;) {
  }
}

}  // namespace privota::rv32
