// flash_check: runs on the rv32 machine in place of the bootloader, on a blank flash file, and checks that
// VirtioFlash keeps NOR rules over the virtio block device: erase to 0xFF in aligned 4 KiB sectors, program
// only clears bits (also across 512-byte blocks and sector ends), and bounds and alignment are refused.
// Prints one line per failed check and "flash_check: N checks, M failed"; exit code 0 when none failed.
#include <string.h>

#include "privota/rv32/console.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/virtio_flash.h"

namespace privota::rv32 {
namespace {

uint32_t checks = 0;
uint32_t failed = 0;

void check(bool ok, const char* what) {
  ++checks;
  if (ok) return;
  ++failed;
  console::write("flash_check: FAILED: ");
  console::write_line(what);
}

void check_code(const Status& status, Code expected, const char* what) {
  check(status.code() == expected, what);
}

bool all(const uint8_t* bytes, size_t n, uint8_t value) {
  for (size_t i = 0; i < n; ++i)
    if (bytes[i] != value) return false;
  return true;
}

alignas(4) uint8_t buffer[2 * Flash::kSectorSize];

void run(VirtioFlash& flash) {
  const uint32_t size = flash.size();
  check(size >= 4 * Flash::kSectorSize && size % Flash::kSectorSize == 0, "size is whole sectors");
  // Erase: whole aligned sectors to 0xFF.
  check_code(flash.erase(0, 2 * Flash::kSectorSize), Code::kOk, "erase two sectors");
  check_code(flash.read(0, {buffer, 2 * Flash::kSectorSize}), Code::kOk, "read two sectors");
  check(all(buffer, 2 * Flash::kSectorSize, 0xFF), "erased sectors read 0xFF");
  check_code(flash.erase(100, Flash::kSectorSize), Code::kMisaligned, "misaligned erase start refused");
  check_code(flash.erase(0, 100), Code::kMisaligned, "misaligned erase length refused");
  check_code(flash.erase(size, Flash::kSectorSize), Code::kOutOfBounds, "erase past the end refused");
  // Program clears bits only: 0xF0 over 0x0F is 0x00, never 0xFF.
  const uint8_t high[3] = {0xF0, 0xF0, 0xF0};
  const uint8_t low[3] = {0x0F, 0x0F, 0x0F};
  check_code(flash.program(510, high), Code::kOk, "program across a 512-byte block end");
  check_code(flash.program(510, low), Code::kOk, "program the same bytes again");
  check_code(flash.read(508, {buffer, 7}), Code::kOk, "read back");
  const uint8_t expected[7] = {0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF};
  check(memcmp(buffer, expected, sizeof expected) == 0, "program ANDs: bits only go from 1 to 0");
  // Across a sector end, then erase brings one sector back to 0xFF and leaves the other.
  memset(buffer, 0x5A, 16);
  check_code(flash.program(Flash::kSectorSize - 8, {buffer, 16}), Code::kOk, "program across a sector end");
  check_code(flash.erase(Flash::kSectorSize, Flash::kSectorSize), Code::kOk, "erase the second sector");
  check_code(flash.read(Flash::kSectorSize - 8, {buffer, 16}), Code::kOk, "read across the sector end");
  check(all(buffer, 8, 0x5A) && all(buffer + 8, 8, 0xFF), "erase touched only its own sector");
  // Bounds: nothing reaches past the end, also with lengths that wrap.
  check_code(flash.read(size - 4, {buffer, 8}), Code::kOutOfBounds, "read past the end refused");
  check_code(flash.program(size - 4, {buffer, 8}), Code::kOutOfBounds, "program past the end refused");
  check_code(flash.read(0xFFFFFFF0u, {buffer, 32}), Code::kOutOfBounds, "wrapping read refused");
  check_code(flash.read(size - 4, {buffer, 4}), Code::kOk, "read of the last bytes");
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  privota::rv32::console::write("flash_check: trap: ");
  privota::rv32::console::write_line(privota::rv32::cause_name(frame->mcause));
  privota::rv32::power_off(3);
}

int main() {
  using namespace privota::rv32;
  console::init();
  const privota::Result<VirtioBlock*> device = VirtioBlock::find();
  if (!device.is_ok()) {
    console::write_status("flash_check: flash", device.status());
    power_off(2);
  }
  static VirtioFlash flash(*device.value());
  run(flash);
  console::write("flash_check: ");
  console::write_dec(checks);
  console::write(" checks, ");
  console::write_dec(failed);
  console::write_line(" failed");
  power_off(failed == 0 ? 0 : 1);
}
