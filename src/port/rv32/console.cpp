#include "privota/rv32/console.h"

#include "privota/rv32/memory_map.h"

namespace privota::rv32::console {
namespace {

// ns16550 registers (byte wide): THR at 0, LSR at 5 with bit 5 "transmit holding register empty".
volatile uint8_t* const kUart = reinterpret_cast<volatile uint8_t*>(kUartBase);
constexpr int kThr = 0, kIer = 1, kFcr = 2, kLcr = 3, kLsr = 5;
constexpr uint8_t kLsrThrEmpty = 0x20;

uint32_t waited = 0;

uint32_t retired() {
  uint32_t count = 0;
  // The bootloader's LTO link assembles for plain rv32imc: name the CSR extension here.
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstret\n.option pop" : "=r"(count));
  return count;
}

}  // namespace

void init() {
  kUart[kIer] = 0x00;  // polled: no UART interrupts
  kUart[kLcr] = 0x03;  // 8N1
  kUart[kFcr] = 0x07;  // FIFOs on and cleared
}

void put(char c) {
  if ((kUart[kLsr] & kLsrThrEmpty) == 0) {
    const uint32_t since = retired();
    while ((kUart[kLsr] & kLsrThrEmpty) == 0) {
    }
    waited += retired() - since;
  }
  kUart[kThr] = static_cast<uint8_t>(c);
}

uint32_t wait_instructions() {
  return waited;
}

void write(const char* text) {
  for (; *text != '\0'; ++text) {
    if (*text == '\n') put('\r');
    put(*text);
  }
}

void write_line(const char* text) {
  write(text);
  write("\n");
}

void write_dec(uint32_t value) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0)
    put(digits[--n]);
}

void write_hex(uint32_t value) {
  static const char kDigits[] = "0123456789abcdef";
  write("0x");
  for (int shift = 28; shift >= 0; shift -= 4)
    put(kDigits[(value >> shift) & 0xF]);
}

void write_status(const char* what, const Status& status) {
  write(what);
  write(": ");
  write(code_name(status.code()));
  // The bootloader's statuses carry no reason text (PRIVOTA_STATUS_WITHOUT_REASONS): code and detail only.
  if (status.reason()[0] != '\0') {
    write(": ");
    write(status.reason());
  }
  if (status.detail() != 0) {
    write(" (detail ");
    write_hex(status.detail());
    write(")");
  }
  write("\n");
}

}  // namespace privota::rv32::console
