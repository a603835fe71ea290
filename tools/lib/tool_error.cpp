#include "tool_error.h"

#include <fmt/format.h>

#include "privota/host/refusal_text.h"

namespace privota::tools {

// The device's words for a refusal (privota/host/refusal_text.h): the CLI and the device log say it alike.
std::string describe(const Status& status, const DeviceFacts& facts) {
  return host::describe_refusal(status, {facts.floor, facts.chip});
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
