// Building a device's flash file: a fresh erased flash with a partition table, and writing an image into
// one partition. These are factory operations (what a production line or `idf.py flash` does), not OTA.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "privota/flash.h"
#include "privota/partition_table.h"

namespace privota::tools {

// The flash sizes esptool's --flash_size offers for the ESP32-C3 and its kin (SPI NOR parts come in these).
constexpr uint32_t kFlashSizes[] = {1u << 20, 2u << 20, 4u << 20, 8u << 20, 16u << 20};
// Throws ToolError naming the sizes when `size` is not one of kFlashSizes.
void check_flash_size(uint32_t size);

// Creates `path` as an erased flash of `size` bytes (one of kFlashSizes) holding `table` at 0x8000. The table
// is validated against the size first; nothing is written when it does not fit. Throws ToolError.
void create_flash_file(const std::filesystem::path& path, uint32_t size, const PartitionTable& table);

struct PartitionWrite {
  std::string partition;
  std::vector<uint8_t> bytes;
  // App partitions take only valid app images (with trailing signature data allowed); raw skips the check.
  bool raw = false;
  // Allows a valid app image that does not fit the slot: unsigned, or signed for the other level (a user
  // app in ota_0, a protected app in user_0). For experiments only: a device refuses to boot it.
  bool force = false;
};

// Erases the whole partition and programs `bytes` at its start. Throws ToolError naming what is wrong.
void write_partition(Flash& flash, const PartitionWrite& write);

}  // namespace privota::tools
