// The CLINT's machine timer (hart 0): mtime counts at kClintHz; an interrupt is pending while
// mtime >= mtimecmp. Armed while the user app runs, it preempts U-mode: the hart traps to M-mode whatever the
// user app does (mstatus.MIE does not mask M-mode interrupts while the hart runs in U-mode).
#pragma once

#include <stdint.h>

namespace privota::rv32 {

// Raises the machine timer interrupt `ticks` from now and enables it (mie.MTIE).
void timer_arm(uint32_t ticks);
// No timer interrupt until the next timer_arm().
void timer_disarm();

}  // namespace privota::rv32
