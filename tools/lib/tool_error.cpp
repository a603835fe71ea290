#include "tool_error.h"

#include <fmt/format.h>

#include "privota/host/chip_names.h"

namespace privota::tools {

std::string describe(const Status& status, const DeviceFacts& facts) {
  if (status.is_ok()) return "ok";
  const std::string reason = status.reason();
  const uint32_t detail = status.detail();
  switch (status.code()) {
    case Code::kRollback:
      if (reason.find("below") == std::string::npos) break;  // "failed its trial": no number
      return facts.floor
                 ? fmt::format("image secure_version {} is below the anti-rollback floor {} (rollback)",
                               detail, *facts.floor)
                 : fmt::format("image secure_version {} is below the anti-rollback floor (rollback)", detail);
    case Code::kWrongChip:
      return facts.chip
                 ? fmt::format("image is built for {}, this device is an {} (wrong_chip)",
                               host::chip_name(static_cast<uint16_t>(detail)), host::chip_name(*facts.chip))
                 : fmt::format("image is built for {} (wrong_chip)",
                               host::chip_name(static_cast<uint16_t>(detail)));
    case Code::kTruncated:
      if (detail == 0) break;
      return fmt::format("{} (truncated, at byte {})", reason, detail);
    default:
      break;
  }
  if (detail == 0) return fmt::format("{} ({})", reason, code_name(status.code()));
  return fmt::format("{} ({}, 0x{:x})", reason, code_name(status.code()), detail);
}

void check(const Status& status, const std::string& context) {
  if (!status.is_ok()) throw ToolError(fmt::format("{}: {}", context, describe(status)));
}

std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

}  // namespace privota::tools
