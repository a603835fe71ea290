// lwIP's platform header for the rv32 device (picolibc, little-endian rv32, no printf): diagnostics are
// dropped and a failed lwIP assertion ends the run with the file and line on the console.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C"
#endif
    void
    privota_lwip_assert(const char* message, const char* file, int line);

#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
  } while (0)
#define LWIP_PLATFORM_ASSERT(x) privota_lwip_assert((x), __FILE__, __LINE__)
