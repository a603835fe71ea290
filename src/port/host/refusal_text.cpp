#include "privota/host/refusal_text.h"

#include <cstdio>

#include "privota/host/chip_names.h"

namespace privota::host {
namespace {

std::string hex(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", value);
  return text;
}

}  // namespace

std::string describe_refusal(const Status& status, const DeviceFacts& facts) {
  if (status.is_ok()) return "ok";
  const std::string reason = status.reason();
  const uint32_t detail = status.detail();
  switch (status.code()) {
    case Code::kRollback:
      if (reason.find("below") == std::string::npos) break;  // "failed its trial": no number
      return "image secure_version " + std::to_string(detail) + " is below the anti-rollback floor" +
             (facts.floor ? " " + std::to_string(*facts.floor) : "") + " (rollback)";
    case Code::kWrongChip:
      return "image is built for " + chip_name(static_cast<uint16_t>(detail)) +
             (facts.chip ? ", this device is an " + chip_name(*facts.chip) : "") + " (wrong_chip)";
    case Code::kTruncated:
      if (detail == 0) break;
      return reason + " (truncated, at byte " + std::to_string(detail) + ")";
    default:
      break;
  }
  if (detail == 0) return reason + " (" + code_name(status.code()) + ")";
  return reason + " (" + code_name(status.code()) + ", " + hex(detail) + ")";
}

}  // namespace privota::host
