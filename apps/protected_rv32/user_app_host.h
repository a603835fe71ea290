// UserAppHost: the rv32 protected firmware's thin shell around the core's device behaviour. It turns what the
// hart does in U-mode into the Supervisor's events — a timer slice is a tick (the CLINT watchdog), an ecall
// is a system call served by the core's SyscallService, the exit ecall is an exit, any other exception a
// crash — and carries out the action the Supervisor answers: (re)load and enter the user app, mark its slot
// invalid, reset the machine, or power it off. It decides nothing itself.
#pragma once

#include <stdint.h>

#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/partition_table.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "protected_self.h"

namespace privota::rv32 {

// What the boot found, for the host to run.
struct UserAppBoot {
  AppSlots* slots = nullptr;
  bool have_app = false;  // false: no user slot verified
  BootDecision decision;
  const EfuseBlock* efuse = nullptr;
  // The flash and its table, for the OTA job.
  Flash* flash = nullptr;
  const PartitionTable* table = nullptr;
  // The crypto app_info needs to verify the other slot.
  MbedSha256* sha = nullptr;
  MbedSignatureVerifier* verifier = nullptr;
  MbedCertificateVerifier* user_ca = nullptr;
  ByteSpan scratch;
  // The protected firmware itself: on trial it confirms itself once the user app started; its own
  // update (the owner's request, or a journal) runs as the background job.
  ProtectedSelf* self = nullptr;
};

// Tells the Supervisor the boot and enters the user app: never returns (the trap handler takes over).
[[noreturn]] void run_user_app(const UserAppBoot& boot);

// The trap handler's part for traps from U-mode: the frame to resume (the same or a fresh start).
TrapFrame* on_user_trap(TrapFrame* frame);

}  // namespace privota::rv32
