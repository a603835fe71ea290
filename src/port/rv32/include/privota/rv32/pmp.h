// Physical memory protection for the user app (RISC-V privileged spec, 3.7). With PMP implemented, U-mode
// may touch only what a matching entry grants; M-mode is bound only by locked entries. So one NAPOT entry
// over the user region is the user app's whole world: not protected RAM, not the eFuse block, not CLINT,
// UART, virtio or the test device. U-mode cannot change PMP: the pmp CSRs are M-mode only.
#pragma once

#include <stdint.h>

namespace privota::rv32 {

// Grants U-mode read, write and execute on [base, base + size): size a power of two >= 8, base aligned to it.
void pmp_allow_user_region(uintptr_t base, uint32_t size);

}  // namespace privota::rv32
