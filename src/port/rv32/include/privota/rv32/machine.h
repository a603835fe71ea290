// Machine-level control of the rv32 device: power, reset, the CLINT timer, and the trap frame the trap
// entry (start.S) hands to C++.
#pragma once

#include <stdint.h>

namespace privota::rv32 {

// Registers as the trap entry saved them: x0..x31 (x0 unused), then the trap CSRs.
struct TrapFrame {
  uint32_t x[32];
  uint32_t mepc;
  uint32_t mcause;
  uint32_t mtval;
  uint32_t mstatus;
};

static_assert(sizeof(TrapFrame) == 36 * 4, "start.S saves FRAME_WORDS = 36 words");

namespace reg {
constexpr int kRa = 1, kSp = 2, kA0 = 10, kA1 = 11, kA2 = 12, kA7 = 17;
}

namespace cause {
constexpr uint32_t kInterrupt = 0x80000000u;
constexpr uint32_t kMachineTimer = kInterrupt | 7;
constexpr uint32_t kInstructionMisaligned = 0, kInstructionFault = 1, kIllegalInstruction = 2,
                   kBreakpoint = 3, kLoadMisaligned = 4, kLoadFault = 5, kStoreMisaligned = 6,
                   kStoreFault = 7, kUserEcall = 8, kMachineEcall = 11;
}  // namespace cause

const char* cause_name(uint32_t mcause);

// Ends the machine: QEMU exits (sifive_test device). The exit code reaches the host as QEMU's status.
[[noreturn]] void power_off(uint32_t code);
// A real machine reset: RAM and CPU state are lost; the flash file stays.
[[noreturn]] void reset();
// Stops this hart after a fatal error (the test harness sees the console and times out or powers off).
[[noreturn]] void halt();

uint64_t mtime();

// What the previous boot stage passed in a0 (the bootloader: the ota slot it booted).
uint32_t boot_arg();

}  // namespace privota::rv32
