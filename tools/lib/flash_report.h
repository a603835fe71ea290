// What a device's flash holds: the partition table, what each app slot contains, and what otadata and
// uotadata select. Built by reading only (never writes), so it is safe on a flash image of a live device.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "privota/app_image.h"
#include "privota/flash.h"
#include "privota/ota_data.h"
#include "privota/partition_table.h"

namespace privota::tools {

struct SlotReport {
  Partition partition;
  enum class Content { kErased, kImage, kInvalid } content = Content::kErased;
  std::optional<AppImageInfo> image;
  std::string problem;  // why the slot does not hold a valid image (kInvalid)
};

struct SelectReport {
  Partition partition;
  OtaDataView view;
  std::vector<std::string> slot_names;  // the app slots this data selects among, in slot order
};

struct FlashReport {
  uint32_t flash_size = 0;
  PartitionTable table;
  std::vector<SlotReport> slots;
  std::optional<SelectReport> otadata;   // protected app: ota_0, ota_1, ...
  std::optional<SelectReport> uotadata;  // user app: user_0, user_1
};

// Throws ToolError when the partition table cannot be read (the rest is reported, not thrown).
FlashReport inspect_flash(Flash& flash);

std::string flash_report_text(const FlashReport& report);
nlohmann::json flash_report_json(const FlashReport& report);

}  // namespace privota::tools
