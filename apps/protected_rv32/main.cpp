// The rv32 protected firmware: M-mode, loaded by the bootloader.
//   eFuse block (user-app CA, supervision limits) -> partition table -> uotadata + user_N -> select_boot_slot
//   with the user-app certificate scheme (the core's trial/rollback rules) -> UserAppHost: the core's
//   Supervisor and SyscallService run the user app in U-mode behind PMP (user_app_host.h).
// From then on the firmware runs only in its trap handler.
#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/partition_table.h"
#include "privota/rv32/app_desc.h"
#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/virtio_flash.h"
#include "protected_self.h"
#include "user_app_host.h"

PRIVOTA_RV32_APP_DESC();

namespace privota::rv32 {
namespace {

constexpr uint32_t kFatal = 3;

// mbedTLS's heap: X.509 parsing and RSA-3072 (32 KiB), and the OTA job's TLS session (about 28 KB more,
// docs/rv32-network.md).
alignas(8) uint8_t crypto_heap[64 * 1024];
alignas(8) uint8_t scratch[kSignatureSectorSize];

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

// Whether any user slot holds something that starts like an app image (erased flash reads 0xFF).
bool user_app_installed(AppSlots& slots) {
  for (uint32_t i = 0; i < slots.slot_count; ++i) {
    uint8_t first = 0xFF;
    if (!slots.slots[i].read(0, {&first, 1}).is_ok() || first != 0xFF) return true;
  }
  return false;
}

[[noreturn]] void run(uint32_t own_slot) {
  console::write("protected: privota protected firmware ");
  console::write(own_version(privota_app_desc));
  console::write(" in ota_");
  console::write_dec(own_slot);
  console::write_line("");
  init_crypto_heap(crypto_heap, sizeof crypto_heap);

  static Result<EfuseBlock> efuse =
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
  static ProtectedSelf self;
  protected_self_init(flash, table.value(), own_slot, self);

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
  static UserAppBoot boot;
  boot.slots = &slots.value();
  boot.efuse = &efuse.value();
  boot.flash = &flash;
  boot.table = &table.value();
  boot.sha = &sha;
  boot.verifier = &verifier;
  boot.user_ca = &user_ca;
  boot.scratch = scratch;
  boot.self = &self;
  if (decision.is_ok()) {
    report(decision.value());
    boot.have_app = true;
    boot.decision = decision.value();
  } else if (decision.status().code() == Code::kNotFound) {
    console::write_status("protected: no user app to start", decision.status());
    // The factory case: no user app was ever installed, so a new firmware has nothing more to prove by
    // starting one (as on the host); an installed app that no longer verifies proves nothing.
    if (!user_app_installed(slots.value())) confirm_after_user_start(self);
  } else {
    give_up("protected: user app selection", decision.status(), kFatal);
  }
  run_user_app(boot);
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  using namespace privota::rv32;
  constexpr uint32_t kMppMask = 0x1800;
  if ((frame->mstatus & kMppMask) == 0) return on_user_trap(frame);
  console::write("protected: trap in M-mode: ");
  console::write(cause_name(frame->mcause));
  console::write(" mepc=");
  console::write_hex(frame->mepc);
  console::write(" mtval=");
  console::write_hex(frame->mtval);
  console::write_line("");
  power_off(kFatal);
}

int main() {
  privota::rv32::run(privota::rv32::boot_arg());
}
