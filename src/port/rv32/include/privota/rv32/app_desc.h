// The app descriptor slot of an rv32 program that is shipped as an app image (protected firmware, user
// apps): 256 zero bytes in .rodata_desc, which the linker script puts first and `privota image build --elf`
// fills (version, project, secure_version, ...). Not const, so the compiler reads what the image carries
// rather than folding the zeros it was compiled with.
#pragma once

#include <stdint.h>

#include "privota/app_image.h"

extern "C" uint8_t privota_app_desc[privota::kAppDescSize];
#define PRIVOTA_RV32_APP_DESC()                               \
  __attribute__((section(".rodata_desc"), used, aligned(16))) \
  uint8_t privota_app_desc[privota::kAppDescSize] = {}

namespace privota::rv32 {
// The descriptor's version and project fields, as the image builder wrote them (NUL-terminated there).
inline const char* own_version(const uint8_t* desc) {
  return reinterpret_cast<const char*>(desc + 16);
}
inline const char* own_project(const uint8_t* desc) {
  return reinterpret_cast<const char*>(desc + 48);
}
}  // namespace privota::rv32
