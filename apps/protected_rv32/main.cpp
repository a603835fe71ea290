// The rv32 protected firmware, minimal for now: M-mode, loaded by the bootloader.
//   eFuse block (user-app CA) -> partition table -> uotadata + user_N -> select_boot_slot with the user-app
//   certificate scheme (the core's trial/rollback rules) -> load the user app into the user region ->
//   PMP: U-mode reaches only that region -> mret into U-mode.
// From then on the firmware runs in its trap handler: an ecall carries a 512-byte system-call frame
// (privota/syscall.h, decoded by the core), the CLINT timer preempts the user app every millisecond, any
// other trap from U-mode is a fault, reported.
//
// Until the device's behaviour lands in the core (src/core/device: supervisor, system-call service), this
// loop serves only log, app_info (running slot), ota_mark_valid and restart, and a fault or the user app's
// exit ends the run (the machine powers off with exit code 4 or 0). It makes no supervision decisions.
#include <string.h>

#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/partition_table.h"
#include "privota/rv32/app_desc.h"
#include "privota/rv32/clint.h"
#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/image_loader.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/pmp.h"
#include "privota/rv32/user_ecall.h"
#include "privota/rv32/virtio_flash.h"
#include "privota/syscall.h"

PRIVOTA_RV32_APP_DESC();

extern "C" [[noreturn]] void privota_rv32_enter_user(privota::rv32::TrapFrame* frame);

namespace privota::rv32 {
namespace {

constexpr uint32_t kNoUserApp = 2;
constexpr uint32_t kFatal = 3;
constexpr uint32_t kUserFault = 4;
constexpr RamWindow kUserRegion{kUserBase, kUserSize};
// The timer slice: the firmware takes the CPU back at least this often (1 ms) while the user app runs.
constexpr uint32_t kSliceTicks = kClintHz / 1000;

// mbedTLS's heap (X.509 parsing, RSA-3072); its peak is not measured yet (docs/rv32.md).
alignas(8) uint8_t crypto_heap[32 * 1024];
alignas(8) uint8_t scratch[kSignatureSectorSize];
// Traps from U-mode run on this stack (mscratch points at its top while the user app runs); the frame the
// user app resumes from sits at its top.
struct alignas(16) TrapStack {
  uint8_t bytes[8 * 1024 - sizeof(TrapFrame)];
  TrapFrame user;
};
TrapStack trap_stack;

// What the trap handler serves from (set once before U-mode starts).
struct Running {
  AppSlots* slots = nullptr;
  BootDecision decision;
  uint32_t preemptions = 0;  // timer interrupts taken while the user app ran
};
Running running;

[[noreturn]] void give_up(const char* what, const Status& status, uint32_t code) {
  console::write_status(what, status);
  power_off(code);
}

void report(const BootDecision& d) {
  console::write("protected: user_");
  console::write_dec(d.slot);
  console::write(": ");
  console::write(d.image.info.desc.project_name);
  console::write(" ");
  console::write(d.image.info.desc.version);
  console::write(", ");
  console::write(boot_outcome_name(d.outcome));
  console::write_line(", user-app certificate verified");
  if (d.rejected_slot >= 0) {
    console::write("protected: gave up on user_");
    console::write_dec(static_cast<uint32_t>(d.rejected_slot));
    console::write_status("", d.rejected_reason);
  }
}

Status serve_app_info(const syscall::Frame& request, syscall::Frame& response) {
  if (request.values[0] != syscall::kRunningSlot && request.values[0] != running.decision.slot)
    return Status::error(Code::kUnsupported, "the rv32 firmware reports only the running slot so far");
  const AppDescriptor& desc = running.decision.image.info.desc;
  response.values[0] = running.decision.slot;
  response.values[1] = desc.secure_version;
  response.values[3] = 1;  // running
  // "project version": both fields hold at most 32 characters, so the text always fits the payload.
  char text[2 * sizeof desc.version + 1] = {};
  strcpy(text, desc.project_name);
  strcat(text, " ");
  strcat(text, desc.version);
  return response.set_string(text);
}

Status serve(const syscall::Frame& request, syscall::Frame& response) {
  switch (request.call) {
    case syscall::Call::kLog:
      console::write("user: ");
      console::write_line(request.string());
      return Status::ok();
    case syscall::Call::kAppInfo:
      return serve_app_info(request, response);
    case syscall::Call::kOtaMarkValid:
      return mark_app_valid(*running.slots, running.decision.slot,
                            running.decision.image.info.desc.secure_version);
    case syscall::Call::kRestart:
      reset();
    default:
      return Status::error(Code::kUnsupported, "not served by the rv32 firmware yet");
  }
}

// One system call: both frames must lie in the user region (the user app passes the pointers).
void on_frame_ecall(TrapFrame& frame) {
  const uint32_t request_at = frame.x[reg::kA0];
  const uint32_t response_at = frame.x[reg::kA1];
  if (!kUserRegion.contains(request_at, syscall::kFrameSize) ||
      !kUserRegion.contains(response_at, syscall::kFrameSize)) {
    console::write_line("protected: refused a system call whose frame is outside the user region");
    frame.x[reg::kA0] = static_cast<uint32_t>(Code::kOutOfBounds);
    return;
  }
  const Result<syscall::Frame> request =
      syscall::decode({reinterpret_cast<const uint8_t*>(uintptr_t{request_at}), syscall::kFrameSize},
                      /*expect_response=*/false);
  if (!request.is_ok()) {
    console::write_status("protected: refused a malformed system-call frame", request.status());
    frame.x[reg::kA0] = static_cast<uint32_t>(request.status().code());
    return;
  }
  syscall::Frame response;
  response.call = request->call;
  response.response = true;
  response.id = request->id;
  response.status = serve(request.value(), response).code();
  const Status encoded =
      syscall::encode(response, {reinterpret_cast<uint8_t*>(uintptr_t{response_at}), syscall::kFrameSize});
  frame.x[reg::kA0] = static_cast<uint32_t>(encoded.code());
}

void report_trap(const char* what, const TrapFrame& frame) {
  console::write(what);
  console::write(cause_name(frame.mcause));
  console::write(" mepc=");
  console::write_hex(frame.mepc);
  console::write(" mtval=");
  console::write_hex(frame.mtval);
  console::write_line("");
}

TrapFrame* on_user_trap(TrapFrame* frame) {
  if (frame->mcause == cause::kMachineTimer) {
    ++running.preemptions;
    timer_arm(kSliceTicks);
    return frame;  // an interrupt: the user app resumes where it was
  }
  if (frame->mcause != cause::kUserEcall) {
    report_trap("protected: user app fault: ", *frame);
    power_off(kUserFault);
  }
  if (frame->x[reg::kA7] == kEcallExit) {
    console::write("protected: user app exited with ");
    console::write_dec(frame->x[reg::kA0]);
    console::write(" (preempted ");
    console::write_dec(running.preemptions);
    console::write_line(" times by the timer)");
    power_off(0);
  }
  if (frame->x[reg::kA7] == kEcallFrame) {
    on_frame_ecall(*frame);
  } else {
    frame->x[reg::kA0] = static_cast<uint32_t>(Code::kInvalidArgument);
  }
  frame->mepc += 4;  // past the ecall
  return frame;
}

[[noreturn]] void start_user_app(uint32_t entry) {
  pmp_allow_user_region(kUserBase, kUserSize);
  TrapFrame* frame = &trap_stack.user;
  *frame = TrapFrame{};
  frame->x[reg::kSp] = static_cast<uint32_t>(kUserBase + kUserSize);
  frame->mepc = entry;
  frame->mstatus = 0;  // MPP = U, interrupts off in U-mode for now
  console::write("protected: entering the user app at ");
  console::write_hex(entry);
  console::write_line(" (U-mode, PMP: user region only)");
  timer_arm(kSliceTicks);
  privota_rv32_enter_user(frame);
}

[[noreturn]] void run(uint32_t own_slot) {
  console::write("protected: privota protected firmware ");
  console::write(own_version(privota_app_desc));
  console::write(" in ota_");
  console::write_dec(own_slot);
  console::write_line("");
  init_crypto_heap(crypto_heap, sizeof crypto_heap);

  const Result<EfuseBlock> efuse =
      decode_efuse_block({reinterpret_cast<const uint8_t*>(kEfuseBase), kEfuseBlockSize});
  if (!efuse.is_ok()) give_up("protected: eFuse block", efuse.status(), kFatal);
  static MbedCertificateVerifier user_ca;
  const Status ca = user_ca.load_ca(efuse->ca_pem);
  if (!ca.is_ok()) give_up("protected: user-app CA", ca, kFatal);
  const Result<VirtioBlock*> device = VirtioBlock::find();
  if (!device.is_ok()) give_up("protected: flash", device.status(), kFatal);
  static VirtioFlash flash(*device.value());
  MbedMd5 md5;
  static Result<PartitionTable> table = PartitionTable::read(flash, md5);
  if (!table.is_ok()) give_up("protected: partition table", table.status(), kFatal);
  static Result<AppSlots> slots = AppSlots::from_table(flash, table.value(), AppLevel::kUser);
  if (!slots.is_ok()) give_up("protected: user app slots", slots.status(), kFatal);

  static MbedSha256 sha;
  static MbedSignatureVerifier verifier;
  BootContext context;
  context.slots = &slots.value();
  context.policy.scheme = SignatureScheme::kUserAppCertificate;
  context.policy.user_ca = &user_ca;
  context.policy.limits.expected_chip = static_cast<ChipId>(efuse->chip_id);
  context.sha256 = &sha;
  context.verifier = &verifier;
  context.scratch = scratch;
  const Result<BootDecision> decision = select_boot_slot(context);
  if (!decision.is_ok()) give_up("protected: no user app to start", decision.status(), kNoUserApp);
  report(decision.value());
  running.slots = &slots.value();
  running.decision = decision.value();

  const AppImageInfo& info = decision->image.info;
  const Status loaded = load_app_segments(slots->slots[decision->slot], info, kUserRegion);
  if (!loaded.is_ok()) give_up("protected: loading the user app", loaded, kNoUserApp);
  start_user_app(info.entry_addr);
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  using namespace privota::rv32;
  constexpr uint32_t kMppMask = 0x1800;
  if ((frame->mstatus & kMppMask) == 0) return on_user_trap(frame);
  report_trap("protected: trap in M-mode: ", *frame);
  power_off(kFatal);
}

int main() {
  privota::rv32::run(privota::rv32::boot_arg());
}
