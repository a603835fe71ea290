// TimedFlash: counts what a workload does to the flash and what it would cost on a real SPI NOR chip.
//
// Erase ranges are split the way ESP-IDF's esp_flash_erase_region does: a 64 KiB block command for every
// whole aligned 64 KiB block, 4 KiB sector commands for the rest. Programs are charged per 256-byte page
// touched, reads per byte.
#pragma once

#include <cstdint>

#include "privota/flash.h"

namespace privota::host {

// Typical (not worst-case) figures of a W25Q32JV-class part, as found on ESP32-C3 boards (datasheet tSE,
// tBE1, tPP and a 40 MHz quad read).
struct FlashTiming {
  double sector_erase_us = 45'000;
  double block_erase_us = 150'000;
  double page_program_us = 400;
  uint32_t page_size = 256;
  double read_us_per_byte = 1.0 / 40.0;  // 40 MB/s
};

struct FlashStats {
  uint64_t reads = 0;
  uint64_t bytes_read = 0;
  uint64_t programs = 0;  // program calls
  uint64_t pages_programmed = 0;
  uint64_t bytes_programmed = 0;
  uint64_t sector_erases = 0;  // 4 KiB erase commands
  uint64_t block_erases = 0;   // 64 KiB erase commands
  uint64_t bytes_erased = 0;
  double device_us = 0;  // simulated time the chip was busy
};

class TimedFlash final : public Flash {
 public:
  explicit TimedFlash(Flash& inner, FlashTiming timing = {}) : inner_(inner), timing_(timing) {}

  const FlashStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override;
  Status program(uint32_t addr, ConstByteSpan data) override;
  Status erase(uint32_t addr, uint32_t len) override;

 private:
  Flash& inner_;
  FlashTiming timing_;
  FlashStats stats_;
};

}  // namespace privota::host
