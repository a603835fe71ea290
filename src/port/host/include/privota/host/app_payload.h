// The executable an app image carries for the host device: the data of its payload segment (segment 1,
// loaded at kPayloadLoadBase; see tools/lib/image_builder.h), as the bootloader and the protected app hand it
// to the process launcher.
#pragma once

#include <cstdint>
#include <vector>

#include "privota/app_image.h"
#include "privota/flash.h"
#include "privota/result.h"

namespace privota::host {

// Where privota's image builder puts the payload (an IROM segment, ESP-IDF's flash-mapped code).
inline constexpr uint32_t kPayloadLoadBase = 0x42000000;

// Reads the payload segment of the verified image `info` at the start of `region`. kNotFound when the image
// has no segment loaded at or above kPayloadLoadBase (it is not a host-device image).
Result<std::vector<uint8_t>> read_app_payload(Flash& region, const AppImageInfo& info);

}  // namespace privota::host
