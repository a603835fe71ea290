// Placeholder until the firmware lands (next commit).
#include "privota/rv32/console.h"
#include "privota/rv32/machine.h"

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  privota::rv32::power_off(3);
  return frame;
}

int main() {
  privota::rv32::console::write_line("protected: hello");
  privota::rv32::power_off(0);
}
