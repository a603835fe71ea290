// intruder on the rv32 device: a hostile U-mode user app that tries, one attempt after the other, to reach
// what PMP and the privilege levels keep from it (docs/rv32.md): protected RAM, the flash device, the eFuse
// block, CLINT and UART; M-mode CSRs, mret, wfi; jumping into protected code; an illegal instruction; a
// misaligned access; system calls whose frames point into protected memory or wrap around, malformed frames.
//
// An attempt the hart stops is a fault: the protected firmware reports and counts it, and the Supervisor
// restarts the (valid) app. Its progress lives in .noinit, which a restart keeps (the firmware clears the
// user region only at boot), so the restarted intruder goes on with the next attempt. Each attempt logs
// "TRY <n> <what>" first; one that returns logs "BLOCKED <what> (<code>)" when it was refused or
// "ESCAPED <what>" when it worked. When all are done: "intruder: done, <n> attempts, <e> escaped", and the
// exit code is the number escaped. The device's crash-loop limit must exceed the faulting attempts
// (device.json user_app.crash_loop_limit).
#include <stdio.h>
#include <string.h>

#include "privota/rv32/memory_map.h"
#include "privota/rv32/user_ecall.h"
#include "privota/syscall.h"
#include "privota/user.h"

namespace {

using namespace privota;

struct Progress {
  uint32_t next;     // the attempt to run
  uint32_t escaped;  // attempts that worked
};
__attribute__((section(".noinit"))) Progress g_progress;

alignas(4) uint8_t g_request[syscall::kFrameSize];
alignas(4) uint8_t g_response[syscall::kFrameSize];

volatile uint32_t* word_at(uintptr_t address) {
  return reinterpret_cast<volatile uint32_t*>(address);
}

void escaped(const char* what) {
  ++g_progress.escaped;
  printf("ESCAPED %s\n", what);
}

// For the attempts the hart must stop: reaching the next line means it did not.
void load(uintptr_t address) {
  const uint32_t value = *word_at(address);
  printf("ESCAPED read 0x%08lx: 0x%08lx\n", static_cast<unsigned long>(address),
         static_cast<unsigned long>(value));
  ++g_progress.escaped;
}
void store(uintptr_t address) {
  *word_at(address) = 0;
  escaped("a store outside the user region");
}

// System calls the firmware must refuse: returns what the ecall answered.
void refused_call(const char* what, const uint8_t* request, uint8_t* response, int expected) {
  const int got = rv32::user_ecall(request, response);
  if (got == expected) {
    printf("BLOCKED %s (%s)\n", what, privota_error_name(got));
  } else {
    escaped(what);
  }
}

void valid_request() {
  syscall::Frame frame;
  frame.call = syscall::Call::kAppInfo;
  frame.id = 1;
  frame.values[0] = syscall::kRunningSlot;
  (void)syscall::encode(frame, g_request);
}

void frame_in_protected_ram() {
  valid_request();
  refused_call("system call with its request frame in protected RAM",
               reinterpret_cast<const uint8_t*>(rv32::kProtectedBase), g_response, PRIVOTA_E_OUT_OF_BOUNDS);
}
void response_in_protected_ram() {
  valid_request();
  refused_call("system call with its response frame in protected RAM", g_request,
               reinterpret_cast<uint8_t*>(rv32::kProtectedBase + 0x1000), PRIVOTA_E_OUT_OF_BOUNDS);
}
void response_wrapping() {
  valid_request();
  refused_call("system call with a response frame wrapping around the address space", g_request,
               reinterpret_cast<uint8_t*>(uintptr_t{0xFFFFFF00}), PRIVOTA_E_OUT_OF_BOUNDS);
}
void frame_across_region_end() {
  valid_request();
  refused_call("system call with a response frame running past the user region", g_request,
               reinterpret_cast<uint8_t*>(rv32::kUserBase + rv32::kUserSize - 256), PRIVOTA_E_OUT_OF_BOUNDS);
}
void malformed_frame() {
  memset(g_request, 0xA5, sizeof g_request);
  const int got = rv32::user_ecall(g_request, g_response);
  const Result<syscall::Frame> answer = syscall::decode(g_response, /*expect_response=*/true);
  if (got == 0 && answer.is_ok() && answer->status != Code::kOk) {
    printf("BLOCKED malformed system-call frame (%s)\n", code_name(answer->status));
  } else {
    escaped("malformed system-call frame");
  }
}
void unknown_ecall() {
  register uintptr_t a0 __asm__("a0") = 0;
  register uintptr_t a7 __asm__("a7") = 1234;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
  if (a0 == PRIVOTA_E_INVALID_ARGUMENT) {
    printf("BLOCKED unknown ecall (%s)\n", privota_error_name(static_cast<int>(a0)));
  } else {
    escaped("unknown ecall");
  }
}

void write_pmpcfg0() {
  __asm__ volatile("csrw pmpcfg0, %0" ::"r"(0x1F));
  escaped("write pmpcfg0");
}
void write_pmpaddr0() {
  __asm__ volatile("csrw pmpaddr0, %0" ::"r"(0xFFFFFFFF));
  escaped("write pmpaddr0");
}
void write_mtvec() {
  __asm__ volatile("csrw mtvec, %0" ::"r"(rv32::kUserBase));
  escaped("write mtvec");
}
void read_mstatus() {
  uint32_t value = 0;
  __asm__ volatile("csrr %0, mstatus" : "=r"(value));
  escaped("read mstatus");
}
void write_mie() {
  __asm__ volatile("csrw mie, zero");
  escaped("write mie (stop the timer)");
}
void do_mret() {
  __asm__ volatile("mret");
  escaped("mret");
}
void jump_into_protected_code() {
  // The protected firmware's first instruction (its image's entry lies in that window).
  auto* code = reinterpret_cast<void (*)()>(rv32::kProtectedBase + 0x100);
  code();
  escaped("jump into protected code");
}
void illegal_instruction() {
  __asm__ volatile(".word 0");
  escaped("illegal instruction");
}
// A misaligned load inside the app's own memory is the hart's to allow (the ISA lets it be done in hardware,
// as QEMU does); one that straddles the end of the user region must fault on the part outside it.
void misaligned_load_across_region_end() {
  load(rv32::kUserBase + rv32::kUserSize - 2);
}
void wait_for_interrupt() {
  __asm__ volatile("wfi");
  escaped("wfi in U-mode");
}

struct Attempt {
  const char* what;
  void (*run)();
};

const Attempt kAttempts[] = {
    {"read protected RAM", [] { load(rv32::kProtectedBase); }},
    {"write protected RAM", [] { store(rv32::kProtectedBase + 0x1000); }},
    {"read the flash device (virtio)", [] { load(rv32::kVirtioBase); }},
    {"write the flash device (virtio)", [] { store(rv32::kVirtioBase + 0x70); }},
    {"read the eFuse block", [] { load(rv32::kEfuseBase); }},
    {"write the eFuse block", [] { store(rv32::kEfuseBase + 8); }},
    {"read CLINT mtime", [] { load(rv32::kClintMtime); }},
    {"write CLINT mtimecmp", [] { store(rv32::kClintMtimecmp); }},
    {"write the UART", [] { store(rv32::kUartBase); }},
    {"power off (test device)", [] { store(rv32::kTestDevice); }},
    {"write pmpcfg0", write_pmpcfg0},
    {"write pmpaddr0", write_pmpaddr0},
    {"write mtvec", write_mtvec},
    {"read mstatus", read_mstatus},
    {"write mie", write_mie},
    {"mret", do_mret},
    {"jump into protected code", jump_into_protected_code},
    {"illegal instruction", illegal_instruction},
    {"misaligned load across the end of the user region", misaligned_load_across_region_end},
    {"wfi", wait_for_interrupt},
    {"request frame in protected RAM", frame_in_protected_ram},
    {"response frame in protected RAM", response_in_protected_ram},
    {"response frame wrapping around", response_wrapping},
    {"response frame past the user region", frame_across_region_end},
    {"malformed frame", malformed_frame},
    {"unknown ecall", unknown_ecall},
};
constexpr uint32_t kCount = sizeof kAttempts / sizeof kAttempts[0];

}  // namespace

int main() {
  if (g_progress.next == 0) {
    // A fresh boot (the firmware cleared the region): confirm, so faults restart the app, not roll it back.
    if (const int err = privota_ota_mark_valid(); err != PRIVOTA_OK) {
      printf("intruder: ota_mark_valid: %s\n", privota_error_name(err));
      return 100;
    }
  }
  while (g_progress.next < kCount) {
    const uint32_t n = g_progress.next++;
    printf("TRY %lu %s\n", static_cast<unsigned long>(n), kAttempts[n].what);
    kAttempts[n].run();
  }
  printf("intruder: done, %lu attempts, %lu escaped\n", static_cast<unsigned long>(kCount),
         static_cast<unsigned long>(g_progress.escaped));
  return static_cast<int>(g_progress.escaped);
}
