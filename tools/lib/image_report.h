// What an app image holds, as text for people and JSON for programs (`privota image info`, `flash show`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "privota/app_image.h"

namespace privota::tools {

std::string hex(const uint8_t* bytes, size_t size);

// Several lines: header fields, segments, descriptor, hashes.
std::string image_info_text(const AppImageInfo& info);
nlohmann::json image_info_json(const AppImageInfo& info);

// One line: "hello 1.2.0 (secure_version 3, esp32c3, 23 KiB)".
std::string image_summary(const AppImageInfo& info);

}  // namespace privota::tools
