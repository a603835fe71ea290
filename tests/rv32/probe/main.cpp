// probe: the rv32 test user app (U-mode). What it does is fixed: log a line, ask for its app info, confirm
// itself, pass frame pointers outside its region (which the firmware must refuse), then either exit or, when
// built as the fault probe, read protected RAM, which PMP must refuse. Any unexpected answer is its exit
// code.
#include <string.h>

#include "privota/rv32/memory_map.h"
#include "privota/rv32/user_ecall.h"
#include "privota/syscall.h"

namespace {

using namespace privota;

alignas(4) uint8_t request_bytes[syscall::kFrameSize];
alignas(4) uint8_t response_bytes[syscall::kFrameSize];
uint32_t next_id = 1;

// One system call; the response's status, or the firmware's refusal, or kBadState for a bad answer.
Code call(syscall::Frame& request, syscall::Frame& response) {
  request.id = next_id++;
  if (!syscall::encode(request, request_bytes).is_ok()) return Code::kInvalidArgument;
  const int refused = rv32::user_ecall(request_bytes, response_bytes);
  if (refused != 0) return static_cast<Code>(refused);
  const Result<syscall::Frame> decoded = syscall::decode(response_bytes, /*expect_response=*/true);
  if (!decoded.is_ok() || decoded->id != request.id) return Code::kBadState;
  response = decoded.value();
  return response.status;
}

Code log(const char* text) {
  syscall::Frame request;
  request.call = syscall::Call::kLog;
  request.values[0] = 2;
  if (!request.set_string(text).is_ok()) return Code::kLimitExceeded;
  syscall::Frame response;
  return call(request, response);
}

}  // namespace

int main() {
  if (log("probe: hello from U-mode") != Code::kOk) return 1;
  syscall::Frame info;
  info.call = syscall::Call::kAppInfo;
  info.values[0] = syscall::kRunningSlot;
  syscall::Frame answer;
  if (call(info, answer) != Code::kOk) return 2;
  char line[syscall::kPayloadMax + 16] = "probe: I am ";
  strncat(line, answer.string(), sizeof line - strlen(line) - 1);
  if (log(line) != Code::kOk) return 3;
  syscall::Frame confirm;
  confirm.call = syscall::Call::kOtaMarkValid;
  if (call(confirm, answer) != Code::kOk) return 4;
  if (log("probe: confirmed") != Code::kOk) return 5;
  // Frames the firmware must not touch: in protected RAM, and wrapping around the address space.
  const auto* protected_ram = reinterpret_cast<const uint8_t*>(rv32::kProtectedBase);
  if (rv32::user_ecall(protected_ram, response_bytes) != static_cast<int>(Code::kOutOfBounds)) return 6;
  if (rv32::user_ecall(request_bytes, reinterpret_cast<uint8_t*>(uintptr_t{0xFFFFFF00})) !=
      static_cast<int>(Code::kOutOfBounds))
    return 7;
  if (log("probe: bad frame pointers refused") != Code::kOk) return 8;
  // Busy for a while without a system call: only the timer can take the CPU back meanwhile.
  for (volatile uint32_t i = 0; i < 2000000; ++i) {
  }
#ifdef PROBE_FAULT
  (void)log("probe: reading protected RAM");
  return static_cast<int>(*reinterpret_cast<volatile uint32_t*>(rv32::kProtectedBase));
#else
  return 0;
#endif
}
