// A core Status as words, for every host program that tells a person why something was refused: the
// device's log (bootloader, protected app) and the privota CLI say a refusal the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "privota/status.h"

namespace privota::host {

// What a refusal's numbers are measured against, when the caller knows it: the device's anti-rollback
// floor and chip.
struct DeviceFacts {
  std::optional<uint32_t> floor;
  std::optional<uint16_t> chip;
};

// One line of words: the numbers a reason refers to are said in words where the code gives them a meaning
// ("image secure_version 1 is below the anti-rollback floor 2", "image is built for esp32s3, this device is
// an esp32c3", "image ends before it is complete (truncated, at byte 1000)"); other details follow as
// "(code, 0x1234)".
std::string describe_refusal(const Status& status, const DeviceFacts& facts = {});

}  // namespace privota::host
