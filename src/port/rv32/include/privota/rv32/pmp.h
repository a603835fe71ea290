// Physical memory protection for the user app (RISC-V privileged spec, 3.7). With PMP implemented, U-mode
// may touch only what a matching entry grants; M-mode is bound only by locked entries. So one NAPOT entry
// over the user region is the user app's whole world: not protected RAM, not the eFuse block, not CLINT,
// UART, virtio or the test device. U-mode cannot change PMP: the pmp CSRs are M-mode only.
#pragma once

#include <stdint.h>

namespace privota::rv32 {

// Grants U-mode read, write and execute on [base, base + size): size a power of two >= 8, base aligned to it.
// Entry 0; it is not locked, so M-mode keeps its full access everywhere else.
void pmp_allow_user_region(uintptr_t base, uint32_t size);

// Closes [base, base + size) to every mode, M-mode included, until the next reset: entry 1, NAPOT, no
// permission, locked (a locked entry binds M-mode too, and neither it nor its address can change again).
// Same size and alignment rules as above. Call it before pmp_allow_user_region (which rewrites pmpcfg0;
// the locked byte ignores the write). Not used by the firmware yet: QEMU 7.2 keeps a locked entry across
// the machine reset, so sealing the eFuse block would lock the next boot's bootloader out of it
// (docs/rv32.md, PMP; tests/rv32/efuse_seal shows both).
void pmp_seal(uintptr_t base, uint32_t size);

}  // namespace privota::rv32
