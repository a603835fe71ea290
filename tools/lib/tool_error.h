// How host tools report failure: one exception type whose message is the single line the user sees.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "privota/status.h"

namespace privota::tools {

class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a refusal's numbers are measured against, when the command knows it: the device's anti-rollback
// floor and chip.
struct DeviceFacts {
  std::optional<uint32_t> floor;
  std::optional<uint16_t> chip;
};

// A core Status as one line of words: the numbers a reason refers to are said in words where the code
// gives them a meaning ("image secure_version 1 is below the anti-rollback floor 2", "image is built for
// esp32s3, this device is an esp32c3", "image ends before it is complete (truncated, at byte 1000)"); other
// details follow as "(code, 0x1234)".
std::string describe(const Status& status, const DeviceFacts& facts = {});

// Throws ToolError("<context>: <describe(status)>") unless status is ok.
void check(const Status& status, const std::string& context);

// `text` with every byte that is not printable ASCII written as \xNN, so a name read from a file (NUL,
// 0xFF, a newline) can never break the one-line rule or the terminal.
std::string printable(const std::string& text);

}  // namespace privota::tools
