// efuse_seal: runs on the rv32 machine in place of the bootloader, with the device's eFuse block loaded, and
// checks what sealing the block with a locked PMP entry (pmp_seal) would give the protected firmware, and
// why it does not do it yet (docs/rv32.md, PMP).
//   first boot: the block is copied and the copy decodes; after pmp_seal, M-mode itself can neither read
//     nor write the block (each access is an access fault, which the trap handler counts and steps over),
//     RAM either side stays usable, and clearing pmpcfg0 does not unlock it. Then a machine reset.
//   second boot (a marker in RAM no program uses says so): is the block still sealed? A bootloader would
//     need it readable again; QEMU 7.2 keeps PMP across the reset.
// Prints one line per failed check, "efuse_seal: N checks, M failed", and what the second boot saw; exit
// code 0 when no check failed.
#include <string.h>

#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/pmp.h"

namespace privota::rv32 {
namespace {

// Above the user region, in RAM no program loads or clears: QEMU's reset keeps it (it reloads only what
// the ELF and the generic loader place).
constexpr uintptr_t kMarkerAddress = kUserBase + 2 * kUserSize;
constexpr uint32_t kMarkerReset = 0x5EA1ED00u;

uint32_t checks = 0;
uint32_t failed = 0;
volatile uint32_t last_cause = 0;  // what the trap handler saw (0: no trap since it was cleared)
volatile uint32_t last_address = 0;

void check(bool ok, const char* what) {
  ++checks;
  if (ok) return;
  ++failed;
  console::write("efuse_seal: FAILED: ");
  console::write_line(what);
}

// A 4-byte load or store (never compressed), so the trap handler can step over it.
uint32_t load(uintptr_t address) {
  uint32_t value = 0;
  __asm__ volatile(".option push\n.option norvc\nlw %0, 0(%1)\n.option pop"
                   : "=r"(value)
                   : "r"(address)
                   : "memory");
  return value;
}
void store(uintptr_t address, uint32_t value) {
  __asm__ volatile(".option push\n.option norvc\nsw %0, 0(%1)\n.option pop" ::"r"(value), "r"(address)
                   : "memory");
}

bool faults(uint32_t expected_cause, uintptr_t address, bool write) {
  last_cause = 0;
  if (write) {
    store(address, 0);
  } else {
    (void)load(address);
  }
  return last_cause == expected_cause && (expected_cause == 0 || last_address == address);
}

alignas(4) uint8_t copy[kEfuseBlockSize];

void first_boot() {
  check(faults(0, kEfuseBase, false), "the block is readable before the seal");
  memcpy(copy, reinterpret_cast<const void*>(kEfuseBase), sizeof copy);
  pmp_seal(kEfuseBase, kEfuseSize);
  const Result<EfuseBlock> efuse = decode_efuse_block(copy);
  check(efuse.is_ok(), "the copy decodes");
  check(efuse.is_ok() && efuse->ca_pem.data() >= copy && efuse->ca_pem.data() < copy + sizeof copy,
        "the decoded fields point into the copy");
  check(faults(cause::kLoadFault, kEfuseBase + 8, false), "an M-mode read of the sealed block faults");
  check(faults(cause::kLoadFault, kEfuseBase + kEfuseSize - 4, false), "so does a read of its last word");
  check(faults(cause::kStoreFault, kEfuseBase + 8, true), "an M-mode write faults");
  check(faults(0, kEfuseBase - 4, false), "RAM just below the block stays readable");
  check(faults(0, kEfuseBase + kEfuseSize, false), "RAM just above the block stays readable");
  __asm__ volatile("csrw pmpcfg0, zero");
  check(faults(cause::kLoadFault, kEfuseBase, false), "clearing pmpcfg0 does not unlock the entry");
}

void report_checks() {
  console::write("efuse_seal: ");
  console::write_dec(checks);
  console::write(" checks, ");
  console::write_dec(failed);
  console::write_line(" failed");
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  using namespace privota::rv32;
  if (frame->mcause == cause::kLoadFault || frame->mcause == cause::kStoreFault) {
    last_cause = frame->mcause;
    last_address = frame->mtval;
    frame->mepc += 4;
    return frame;
  }
  console::write("efuse_seal: trap: ");
  console::write_line(cause_name(frame->mcause));
  power_off(3);
}

int main() {
  using namespace privota::rv32;
  console::init();
  volatile uint32_t& marker = *reinterpret_cast<volatile uint32_t*>(kMarkerAddress);
  if (marker != kMarkerReset) {
    first_boot();
    report_checks();
    if (failed != 0) power_off(1);
    marker = kMarkerReset;
    console::write_line("efuse_seal: machine reset");
    reset();
  }
  marker = 0;
  console::write_line(faults(0, kEfuseBase, false) ? "efuse_seal: after the reset the block is readable"
                                                   : "efuse_seal: after the reset the block is still sealed");
  power_off(0);
}
