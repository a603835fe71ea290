#include "user_app_host.h"

#include <string.h>

#include "ota_host.h"

#include "privota/ota_data.h"
#include "privota/ota_service.h"
#include "privota/rv32/clint.h"
#include "privota/rv32/console.h"
#include "privota/rv32/image_loader.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/pmp.h"
#include "privota/rv32/user_ecall.h"
#include "privota/rv32/virtio_block.h"
#include "privota/signed_image.h"
#include "privota/supervisor.h"
#include "privota/syscall_service.h"

extern "C" [[noreturn]] void privota_rv32_enter_user(privota::rv32::TrapFrame* frame);

namespace privota::rv32 {
namespace {

using Kind = SupervisorEventKind;

constexpr uint32_t kHaltNoUserApp = 2;
constexpr RamWindow kUserRegion{kUserBase, kUserSize};
// Where the user app's segments may load: the user region, except in the test image built with a defect
// (apps/protected_rv32/CMakeLists.txt: protected_no_user_start), which can start no user app.
#ifndef PRIVOTA_RV32_TEST_NO_USER_START
#define PRIVOTA_RV32_TEST_NO_USER_START 0
#endif
constexpr RamWindow kUserLoadWindow{kUserBase, PRIVOTA_RV32_TEST_NO_USER_START ? 0u : kUserSize};
// The timer slice: the firmware takes the CPU back at least this often (1 ms) while the user app runs, and
// each slice is the Supervisor's tick (the confirmation deadline, the watchdog).
constexpr uint32_t kSliceTicks = kClintHz / 1000;
constexpr uint32_t kTicksPerMs = kClintHz / 1000;
constexpr size_t kMaxUserArgs = 16;

uint32_t instructions_retired() {
  uint32_t count = 0;
  __asm__ volatile("csrr %0, minstret" : "=r"(count));
  return count;
}

uint64_t now_ms() {
  return mtime() / kTicksPerMs;
}

// Traps from U-mode run on this stack (mscratch points at its top while the user app runs); the frame the
// user app resumes from sits at its top. Large enough for an RSA-3072 check (app_info of the other slot).
struct alignas(16) TrapStack {
  uint8_t bytes[16 * 1024 - sizeof(TrapFrame)];
  TrapFrame user;
};
TrapStack trap_stack;

class Platform final : public SyscallPlatform {
 public:
  explicit Platform(const UserAppBoot& boot) : boot_(boot) {}

  Result<AppDescriptor> verify_user_slot(uint32_t slot) override {
    AppSlots& slots = *boot_.slots;
    TrustPolicy policy;
    policy.scheme = SignatureScheme::kUserAppCertificate;
    policy.user_ca = boot_.user_ca;
    policy.limits.expected_chip = static_cast<ChipId>(boot_.efuse->chip_id);
    policy.limits.max_image_size = slots.slots[slot].size();
    const Result<OtaDataView> view = read_ota_data(slots.select);
    policy.min_secure_version = view.is_ok() ? view->secure_version_floor() : 0;
    const Result<SignedImage> image =
        verify_signed_image(slots.slots[slot], policy, *boot_.sha, *boot_.verifier, boot_.scratch);
    if (!image.is_ok()) return image.status();
    return image->info.desc;
  }
  void user_log(uint32_t, const char* text) override {
    console::write("user: ");
    console::write_line(text);
  }
  void user_log_dropped(const char* source, uint32_t lines, uint64_t) override {
    console::write("protected: dropped ");
    console::write_dec(lines);
    console::write(" lines of the user app's ");
    console::write_line(source);
  }

 private:
  const UserAppBoot& boot_;
};

// What the trap handler serves from (set once before U-mode starts).
struct Host {
  const UserAppBoot* boot = nullptr;
  Supervisor* supervisor = nullptr;
  SyscallService* syscalls = nullptr;
  OtaService* ota = nullptr;
  uint32_t preemptions = 0;  // timer slices taken while the user app ran
  uint32_t faults = 0;       // exceptions of the user app this boot
  uint32_t refused = 0;      // system calls refused before the core saw them (frames outside the region)
  bool app_running = false;  // a user app was entered and has not ended since
};
Host host;

SupervisorAction tell(Kind kind, int32_t code = 0) {
  SupervisorEvent event;
  event.kind = kind;
  event.now_ms = now_ms();
  event.code = code;
  return host.supervisor->on(event);
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

void report_counts() {
  console::write("protected: this boot: ");
  console::write_dec(host.faults);
  console::write(" user app faults, ");
  console::write_dec(host.refused);
  console::write(" refused system calls, ");
  console::write_dec(host.syscalls->malformed());
  console::write(" malformed frames, ");
  console::write_dec(host.preemptions);
  console::write_line(" timer slices");
}

// The user app's arguments at the top of its region, as a C program's argv: argv[0] is its project name,
// argv[1..] the device configuration's (eFuse block). Returns the stack pointer below them.
uint32_t place_arguments(TrapFrame& frame) {
  const AppDescriptor& desc = host.boot->decision.image.info.desc;
  const ConstByteSpan args = host.boot->efuse->user_args;
  uint32_t top = kUserBase + kUserSize;
  top -= static_cast<uint32_t>(args.size());
  memcpy(reinterpret_cast<void*>(uintptr_t{top}), args.data(), args.size());
  const uint32_t args_at = top;
  const size_t name_len = strlen(desc.project_name) + 1;
  top -= static_cast<uint32_t>(name_len);
  memcpy(reinterpret_cast<void*>(uintptr_t{top}), desc.project_name, name_len);
  uint32_t argv[kMaxUserArgs + 2] = {top};
  uint32_t argc = 1;
  for (size_t at = 0; at < args.size() && argc <= kMaxUserArgs; ++argc) {
    argv[argc] = args_at + static_cast<uint32_t>(at);
    at += strlen(reinterpret_cast<const char*>(args.data() + at)) + 1;
  }
  argv[argc] = 0;
  top = (top - (argc + 1) * 4) & ~uint32_t{15};
  memcpy(reinterpret_cast<void*>(uintptr_t{top}), argv, (argc + 1) * 4);
  frame.x[reg::kA0] = argc;
  frame.x[reg::kA1] = top;
  return top;
}

// A fresh start of the user app: its segments loaded again (its code and data as signed), a new frame.
SupervisorAction launch(TrapFrame& frame) {
  const AppImageInfo& info = host.boot->decision.image.info;
  const Status loaded =
      load_app_segments(host.boot->slots->slots[host.boot->decision.slot], info, kUserLoadWindow);
  if (!loaded.is_ok()) {
    console::write_status("protected: loading the user app", loaded);
    host.app_running = false;
    return tell(Kind::kLaunchFailed);
  }
  frame = TrapFrame{};
  frame.x[reg::kSp] = place_arguments(frame);
  frame.mepc = info.entry_addr;
  frame.mstatus = 0;  // MPP = U
  host.app_running = true;
  const SupervisorAction action = tell(Kind::kUserStarted);
  if (host.boot->self != nullptr) confirm_after_user_start(*host.boot->self);
  console::write("protected: started ");
  console::write(info.desc.project_name);
  console::write(" ");
  console::write(info.desc.version);
  console::write(" from user_");
  console::write_dec(host.boot->decision.slot);
  console::write(host.supervisor->on_trial() ? " in U-mode, on trial: it must confirm itself" : " in U-mode");
  console::write_line(" (PMP: user region only)");
  return action;
}

void write_restart(const char* what, const SupervisorAction& action) {
  console::write(what);
  console::write(" (");
  console::write_dec(action.count);
  console::write(" of ");
  console::write_dec(action.limit);
  console::write_line(" restarts)");
}

[[noreturn]] void reboot(const char* why) {
  host.ota->suspend();
  report_counts();
  console::write("protected: rebooting: ");
  console::write_line(why);
  reset();
}

// A reboot the user app caused counts against its boot budget (uotadata's budget record, read at the next
// boot), as on the host: the core decides which reboots carry a failure.
void record_failed_boot(const SupervisorAction& action) {
  AppSlots& slots = *host.boot->slots;
  if (action.failure == BootFailure::kNone || slots.slot_count == 0) return;
  const Status recorded = add_failed_boot(slots.select, slots.slot_count, action.slot, action.failure);
  if (!recorded.is_ok()) console::write_status("protected: recording the failed boot", recorded);
}

[[noreturn]] void mark_invalid_and_reboot(const SupervisorAction& action) {
  host.ota->cancel_level(AppLevel::kUser);
  const Status marked = mark_app_invalid(*host.boot->slots, action.slot);
  record_failed_boot(action);
  if (!marked.is_ok()) console::write_status("protected: marking the trial app invalid", marked);
  console::write("protected: trial of user_");
  console::write_dec(action.slot);
  console::write(" failed (");
  console::write(supervisor_reason_name(action.reason));
  console::write_line("): marked invalid, rolling back");
  reboot("rollback");
}

[[noreturn]] void halt(const SupervisorAction& action) {
  host.ota->suspend();
  report_counts();
  console::write("protected: halting: ");
  console::write_line(supervisor_reason_name(action.reason));
  power_off(action.reason == SupervisorReason::kNoUserApp ? kHaltNoUserApp : 0);
}

// The user app is not running (it ended, or there is none) and the Supervisor waits for an OTA job: with no
// user app to preempt, the firmware gives the job its turns and the Supervisor its ticks here until the
// Supervisor acts (a reboot into the new image, or a halt once the job ended without one).
SupervisorAction wait_for_job() {
  console::write_line("protected: the OTA job runs on with the user app not running");
  uint64_t last_tick = now_ms();
  for (;;) {
    SupervisorEventKind finished = Kind::kTick;
    if (ota_host_step(finished)) {
      const SupervisorAction action = tell(finished);
      if (action.kind != SupervisorActionKind::kNone) return action;
    }
    if (now_ms() == last_tick) continue;
    last_tick = now_ms();
    const SupervisorAction action = tell(Kind::kTick);
    if (action.kind != SupervisorActionKind::kNone) return action;
  }
}

// Carries out the Supervisor's answers until one lets a user app run: returns the frame to resume.
TrapFrame* carry_out(SupervisorAction action, TrapFrame* frame) {
  for (;;) {
    switch (action.kind) {
      case SupervisorActionKind::kNone:
        if (host.app_running) return frame;
        action = wait_for_job();
        break;
      case SupervisorActionKind::kLaunch:
        if (action.reason == SupervisorReason::kCrashRestart)
          write_restart("protected: restarting the crashed user app", action);
        if (action.reason == SupervisorReason::kWatchdog)
          write_restart("protected: the user app missed its watchdog feed: restarting it", action);
        action = launch(*frame);
        break;
      case SupervisorActionKind::kRestart:
        write_restart("protected: the user app asked to be restarted", action);
        action = launch(*frame);
        break;
      case SupervisorActionKind::kMarkInvalidAndReboot:
        mark_invalid_and_reboot(action);
      case SupervisorActionKind::kReboot:
        record_failed_boot(action);
        reboot(supervisor_reason_name(action.reason));
      case SupervisorActionKind::kSafeState:
        console::write("protected: safe state: the user app caused ");
        console::write_dec(action.count);
        console::write(" reboots in a row (boot budget ");
        console::write_dec(action.limit);
        console::write_line("): it is not started");
        // As on the host, an owner's job (resumed or asked for at boot) still runs and reboots into its
        // image; with none the device halts until a new image is flashed.
        if (!host.ota->running()) halt(action);
        action = wait_for_job();
        break;
      case SupervisorActionKind::kHalt:
        halt(action);
    }
  }
}

// One system call: both frames must lie in the user region (the user app passes the pointers; the check is
// overflow-safe, so a frame wrapping around the address space is refused too). Then the core serves it.
SupervisorAction on_frame_ecall(TrapFrame& frame) {
  const uint32_t request_at = frame.x[reg::kA0];
  const uint32_t response_at = frame.x[reg::kA1];
  if (!kUserRegion.contains(request_at, syscall::kFrameSize) ||
      !kUserRegion.contains(response_at, syscall::kFrameSize)) {
    ++host.refused;
    console::write("protected: refused a system call whose frame is outside the user region (request ");
    console::write_hex(request_at);
    console::write(", response ");
    console::write_hex(response_at);
    console::write_line(")");
    frame.x[reg::kA0] = static_cast<uint32_t>(Code::kOutOfBounds);
    return {};
  }
  const SyscallOutcome outcome = host.syscalls->serve(
      {reinterpret_cast<const uint8_t*>(uintptr_t{request_at}), syscall::kFrameSize},
      {reinterpret_cast<uint8_t*>(uintptr_t{response_at}), syscall::kFrameSize}, now_ms());
  if (outcome.notice == SyscallNotice::kMalformed)
    console::write_status("protected: refused a malformed system-call frame", outcome.status);
  if (outcome.notice == SyscallNotice::kConfirmed)
    console::write_line("protected: the user app confirmed itself");
  if (outcome.notice == SyscallNotice::kGaveUp)
    console::write_line("protected: the user app marked itself invalid");
  frame.x[reg::kA0] = 0;  // the answer frame says the rest
  return outcome.action;
}

SupervisorAction on_ecall(TrapFrame& frame) {
  const uint32_t what = frame.x[reg::kA7];
  frame.mepc += 4;  // past the ecall, whatever it asked
  if (what == kEcallExit) {
    console::write("protected: user app exited with ");
    console::write_dec(frame.x[reg::kA0]);
    console::write_line("");
    host.app_running = false;
    return tell(Kind::kExited, static_cast<int32_t>(frame.x[reg::kA0]));
  }
  if (what == kEcallFrame) return on_frame_ecall(frame);
  ++host.refused;
  console::write("protected: refused an ecall with a7=");
  console::write_hex(what);
  console::write_line("");
  frame.x[reg::kA0] = static_cast<uint32_t>(Code::kInvalidArgument);
  return {};
}

}  // namespace

TrapFrame* on_user_trap(TrapFrame* frame) {
  if (frame->mcause == cause::kMachineTimer) {
    ++host.preemptions;
    timer_arm(kSliceTicks);
    // The background OTA job's turn: it runs until it next waits, then the user app has the rest.
    SupervisorEventKind finished = Kind::kTick;
    if (ota_host_step(finished)) {
      const SupervisorAction action = tell(finished);
      if (action.kind != SupervisorActionKind::kNone) return carry_out(action, frame);
    }
    return carry_out(tell(Kind::kTick), frame);
  }
  if (frame->mcause == cause::kUserEcall) return carry_out(on_ecall(*frame), frame);
  // Anything else the user app did is a fault: the hart stopped it before the access or instruction took
  // effect (PMP, an M-mode CSR or instruction, a bad encoding). Counted, reported, and a crash for the
  // Supervisor.
  ++host.faults;
  host.app_running = false;
  console::write("protected: user app fault ");
  console::write_dec(host.faults);
  report_trap(": ", *frame);
  return carry_out(tell(Kind::kCrashed, static_cast<int32_t>(frame->mcause)), frame);
}

void run_user_app(const UserAppBoot& boot) {
  SupervisorLimits limits;
  limits.confirm_timeout_ms = boot.efuse->confirm_timeout_ms;
  limits.crash_loop_limit = boot.efuse->crash_loop_limit;
  limits.reboot_grace_ms = boot.efuse->reboot_grace_ms;
  // The boot budget keeps the core's default until the eFuse block carries one.
  static Supervisor supervisor(limits);
  OtaHostConfig ota_config;
  ota_config.efuse = boot.efuse;
  ota_config.flash = boot.flash;
  ota_config.table = boot.table;
  ota_config.user_ca = boot.user_ca;
  ota_config.self = boot.self;
  ota_config.scratch = boot.scratch;
  if (boot.have_app) {
    ota_config.slots = boot.slots;
    ota_config.running_slot = boot.decision.slot;
    ota_config.running = &boot.decision.image.info.desc;
  }
  OtaService& ota = ota_host_init(ota_config);
  static Platform platform(boot);
  static SyscallService syscalls(
      RunningUserApp{boot.slots, boot.decision.slot, boot.decision.image.info.desc}, supervisor, ota,
      platform);
  host.boot = &boot;
  host.supervisor = &supervisor;
  host.syscalls = &syscalls;
  host.ota = &ota;

  // A new boot: nothing of a previous run of any user app stays in its region.
  memset(reinterpret_cast<void*>(kUserBase), 0, kUserSize);
  pmp_allow_user_region(kUserBase, kUserSize);
  // U-mode may read the `time` CSR (mtime, as Linux lets user processes), no other counter. QEMU's virt hart
  // has S-mode, so U-mode needs the bit in scounteren too.
  __asm__ volatile("csrw mcounteren, %0" ::"r"(uint32_t{2}));
  __asm__ volatile("csrw scounteren, %0" ::"r"(uint32_t{2}));
  SupervisorEvent booted;
  booted.kind = Kind::kBooted;
  booted.now_ms = now_ms();
  booted.no_user_app = !boot.have_app;
  const Result<OtaDataView> selection = read_ota_data(boot.slots->select);
  booted.failed_boots = selection.is_ok() ? selection->failed_boots() : 0;
  booted.slot = boot.decision.slot;
  booted.trial = boot.decision.outcome == BootOutcome::kTrial;
  booted.protected_trial = boot.self != nullptr && boot.self->on_trial;
  // A job resumed from its journal or started for the owner keeps the device up until it ends.
  if (ota.running()) (void)tell(Kind::kJobStarted);
  TrapFrame* frame = carry_out(supervisor.on(booted), &trap_stack.user);
  // Instructions since reset: under QEMU's -icount minstret counts them exactly (scripts/bench-rv32);
  // without it QEMU derives minstret from the host's clock.
  console::write("protected: minstret at the user app's entry: ");
  console::write_dec(instructions_retired());
  // Of them, the firmware's own polling of the flash and the UART (the bootloader's is on its "jumping to"
  // line).
  console::write(" (wait ");
  console::write_dec(VirtioBlock::wait_instructions() + console::wait_instructions());
  console::write_line(")");
  timer_arm(kSliceTicks);
  privota_rv32_enter_user(frame);
}

}  // namespace privota::rv32
