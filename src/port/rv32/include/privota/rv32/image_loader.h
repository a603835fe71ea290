// Loads a verified app image's segments to their load addresses in RAM (what the ESP bootloader does for
// IRAM/DRAM segments), refusing any segment outside the window the loaded program may occupy: an image that
// verifies is trusted to run, never to overwrite its loader.
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/flash.h"
#include "privota/status.h"

namespace privota::rv32 {

struct RamWindow {
  uintptr_t base = 0;
  uint32_t size = 0;
  bool contains(uint32_t addr, uint32_t len) const {
    return addr >= base && addr - base <= size && len <= size - (addr - base);
  }
};

// `region` is the app's partition; `info` its verified image. Checks every segment and the entry point
// before it copies anything.
Status load_app_segments(Flash& region, const AppImageInfo& info, RamWindow window);

}  // namespace privota::rv32
