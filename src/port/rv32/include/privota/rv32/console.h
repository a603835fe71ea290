// The firmware's console: the virt machine's ns16550 UART, polled. No printf: a few typed writers keep the
// bootloader small and the output predictable for the tests that read it.
#pragma once

#include <stdint.h>

#include "privota/status.h"

namespace privota::rv32::console {

void init();
void put(char c);
void write(const char* text);
// Instructions retired while waiting for the UART to take a byte, since this program started: under QEMU
// they follow the host (a console piped to a slow reader), not the firmware's work (scripts/bench-rv32).
uint32_t wait_instructions();
void write_line(const char* text);
void write_dec(uint32_t value);
void write_hex(uint32_t value);  // 0x%08x
// "<what>: <code name>: <reason> (detail 0x...)" on one line.
void write_status(const char* what, const Status& status);

}  // namespace privota::rv32::console
