// The rv32 device's bootloader: the second stage of an ESP chip's boot, in M-mode, not updatable.
//   partition table at 0x8000 -> otadata + ota_N -> select_boot_slot (trial, rollback: the core's rules)
//   -> Secure Boot v2 against the eFuse block's key digests -> load the segments -> jump to the entry.
// Every refusal is one console line; with nothing to boot the machine powers off with exit code 2.
#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/partition_table.h"
#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/image_loader.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/virtio_flash.h"

namespace privota::rv32 {
namespace {

constexpr uint32_t kNoBootableApp = 2;

// mbedTLS's heap (RSA-3072 and P-256 verification); its peak is not measured yet (docs/rv32.md).
alignas(8) uint8_t crypto_heap[16 * 1024];
alignas(8) uint8_t scratch[kSignatureSectorSize];

[[noreturn]] void give_up(const char* what, const Status& status) {
  console::write_status(what, status);
  power_off(kNoBootableApp);
}

void report(const BootDecision& d) {
  console::write("bootloader: ota_");
  console::write_dec(d.slot);
  console::write(": ");
  console::write(d.image.info.desc.project_name);
  console::write(" ");
  console::write(d.image.info.desc.version);
  console::write(", ");
  console::write(boot_outcome_name(d.outcome));
  console::write(", Secure Boot v2 verified (key block ");
  console::write_dec(d.image.block);
  console::write_line(")");
  if (d.rejected_slot >= 0) {
    console::write("bootloader: gave up on ota_");
    console::write_dec(static_cast<uint32_t>(d.rejected_slot));
    console::write_status("", d.rejected_reason);
  }
}

[[noreturn]] void boot() {
  console::init();
  console::write_line("bootloader: privota rv32");
  init_crypto_heap(crypto_heap, sizeof crypto_heap);

  const Result<EfuseBlock> efuse =
      decode_efuse_block({reinterpret_cast<const uint8_t*>(kEfuseBase), kEfuseBlockSize});
  if (!efuse.is_ok()) give_up("bootloader: eFuse block", efuse.status());
  const Result<VirtioBlock*> device = VirtioBlock::find();
  if (!device.is_ok()) give_up("bootloader: flash", device.status());
  static VirtioFlash flash(*device.value());
  MbedMd5 md5;
  static Result<PartitionTable> table = PartitionTable::read(flash, md5);
  if (!table.is_ok()) give_up("bootloader: partition table at 0x8000", table.status());
  static Result<AppSlots> slots = AppSlots::from_table(flash, table.value(), AppLevel::kProtected);
  if (!slots.is_ok()) give_up("bootloader: protected app slots", slots.status());

  MbedSha256 sha;
  MbedSignatureVerifier verifier;
  BootContext context;
  context.slots = &slots.value();
  context.policy.scheme = efuse->secure_boot ? SignatureScheme::kSecureBootV2 : SignatureScheme::kNone;
  context.policy.trusted_keys = efuse->trusted_keys();
  context.policy.limits.expected_chip = static_cast<ChipId>(efuse->chip_id);
  context.sha256 = &sha;
  context.verifier = &verifier;
  context.scratch = scratch;
  const Result<BootDecision> decision = select_boot_slot(context);
  if (!decision.is_ok()) give_up("bootloader: no protected app to boot", decision.status());
  report(decision.value());

  const AppImageInfo& info = decision->image.info;
  const Status loaded =
      load_app_segments(slots->slots[decision->slot], info, {kProtectedBase, kProtectedSize});
  if (!loaded.is_ok()) give_up("bootloader: loading the protected app", loaded);
  console::write("bootloader: jumping to ");
  console::write_hex(info.entry_addr);
  // The instructions spent polling the flash and the UART so far: the host's latency, not the boot's work
  // (scripts/bench-rv32).
  console::write(" (wait ");
  console::write_dec(VirtioBlock::wait_instructions() + console::wait_instructions());
  console::write_line(")");
  // The protected firmware learns which slot it is from otadata, as on a chip; a0 carries it for convenience.
  using Entry = void (*)(uint32_t slot);
  reinterpret_cast<Entry>(uintptr_t{info.entry_addr})(decision->slot);
  halt();
}

}  // namespace
}  // namespace privota::rv32

// Any trap in the bootloader is a bug or a bad image: say where, and stop. The cause as a number only (the
// privileged spec's table; machine.h's cause_name() texts are left out of the 32 KiB bootloader).
extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  using namespace privota::rv32;
  console::write("bootloader: trap: mcause=");
  console::write_hex(frame->mcause);
  console::write(" mepc=");
  console::write_hex(frame->mepc);
  console::write(" mtval=");
  console::write_hex(frame->mtval);
  console::write_line("");
  power_off(3);
}

int main() {
  privota::rv32::boot();
}
