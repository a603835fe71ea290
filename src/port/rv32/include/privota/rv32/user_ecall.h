// How a U-mode user app reaches the protected firmware: `ecall` with a7 saying what.
//   a7 = kEcallFrame: a0 -> a 512-byte request frame (privota/syscall.h), a1 -> a 512-byte buffer for the
//                     response; both inside the user region. Returns in a0: 0 when a response frame was
//                     written, else a privota::Code the firmware refused the call with (bad pointer, frame).
//   a7 = kEcallExit:  a0 = exit code; the user app ends.
#pragma once

#include <stdint.h>

namespace privota::rv32 {

constexpr uint32_t kEcallFrame = 0;
constexpr uint32_t kEcallExit = 93;

int user_ecall(const uint8_t* request, uint8_t* response);
[[noreturn]] void user_exit(int code);

}  // namespace privota::rv32
