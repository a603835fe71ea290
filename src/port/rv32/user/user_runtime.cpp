// The C++ runtime a U-mode user app needs without libstdc++, the ecall transport of system calls, its app
// descriptor, and the few POSIX calls the example apps use, as a user app on the device can have them.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "privota/rv32/app_desc.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/user_ecall.h"

// Every user app's esp_app_desc_t, filled by the image builder (privota image build --elf).
PRIVOTA_RV32_APP_DESC();

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

// picolibc's exit() and abort() end here: the exit ecall.
[[noreturn]] void _exit(int code) {
  privota::rv32::user_exit(code);
}

// Time from the `time` CSR (the CLINT's mtime, which the firmware lets U-mode read: mcounteren.TM). U-mode
// may not wait for an interrupt (wfi), so waiting is spinning; the timer slices preempt it.
int usleep(useconds_t us) {
  uint32_t start = 0;
  __asm__ volatile("rdtime %0" : "=r"(start));
  const uint32_t ticks = static_cast<uint32_t>(us) * (privota::rv32::kClintHz / 1000000);
  for (;;) {
    uint32_t now = 0;
    __asm__ volatile("rdtime %0" : "=r"(now));
    if (now - start >= ticks) return 0;
  }
}

int pause() {
  for (;;) {
  }
}

// picolibc's raise() (abort()) signals its own process: on the device an abort is a crash, so it is a trap
// (ebreak), which the protected firmware treats like any other fault.
pid_t getpid() {
  return 1;
}

int kill(pid_t, int) {
  __asm__ volatile("ebreak");
  for (;;) {
  }
}

// A user app on the device has no file descriptors: its channel is the ecall.
int close(int) {
  errno = EBADF;
  return -1;
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
