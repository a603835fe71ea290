#include "privota/rv32/machine.h"

#include <stddef.h>

#include "privota/rv32/memory_map.h"

extern "C" {
// Written by start.S before .bss matters (it lives in .data).
uint32_t privota_rv32_boot_arg = 0xFFFFFFFF;
}

namespace privota::rv32 {
namespace {

// sifive_test (QEMU hw/misc/sifive_test.c): the low 16 bits say what, the high 16 bits carry a fail code.
constexpr uint32_t kTestPass = 0x5555, kTestFail = 0x3333, kTestReset = 0x7777;
volatile uint32_t* const kTest = reinterpret_cast<volatile uint32_t*>(kTestDevice);

}  // namespace

const char* cause_name(uint32_t mcause) {
  switch (mcause) {
    case cause::kMachineTimer:
      return "machine timer interrupt";
    case cause::kInstructionMisaligned:
      return "instruction address misaligned";
    case cause::kInstructionFault:
      return "instruction access fault";
    case cause::kIllegalInstruction:
      return "illegal instruction";
    case cause::kBreakpoint:
      return "breakpoint";
    case cause::kLoadMisaligned:
      return "load address misaligned";
    case cause::kLoadFault:
      return "load access fault";
    case cause::kStoreMisaligned:
      return "store address misaligned";
    case cause::kStoreFault:
      return "store access fault";
    case cause::kUserEcall:
      return "ecall from U-mode";
    case cause::kMachineEcall:
      return "ecall from M-mode";
    default:
      return "unexpected trap";
  }
}

void power_off(uint32_t code) {
  *kTest = code == 0 ? kTestPass : (code << 16) | kTestFail;
  halt();
}

void reset() {
  *kTest = kTestReset;
  halt();
}

void halt() {
  for (;;)
    __asm__ volatile("wfi");
}

uint64_t mtime() {
  // Two 32-bit halves: read high, low, high again until the high half did not move.
  volatile const uint32_t* time = reinterpret_cast<volatile const uint32_t*>(kClintMtime);
  uint32_t high = 0;
  uint32_t low = 0;
  do {
    high = time[1];
    low = time[0];
  } while (time[1] != high);
  return (uint64_t{high} << 32) | low;
}

uint32_t boot_arg() {
  return privota_rv32_boot_arg;
}

}  // namespace privota::rv32

// The C++ runtime the firmware needs without libstdc++ (the bare-metal toolchain ships none).
extern "C" {
using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

void privota_rv32_run_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c)
    (*c)();
}

// mbedTLS's exit (privota_mbedtls_config.h): only a corrupted heap calls it.
void privota_mbedtls_exit(int status) {
  privota::rv32::power_off(0x100 | static_cast<uint32_t>(status & 0xFF));
}

[[noreturn]] void __cxa_pure_virtual() {
  privota::rv32::power_off(0x7F);
}
}
