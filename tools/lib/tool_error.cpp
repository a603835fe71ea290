#include "tool_error.h"

#include <fmt/format.h>

namespace privota::tools {

std::string describe(const Status& status) {
  if (status.is_ok()) return "ok";
  if (status.detail() == 0) return fmt::format("{} ({})", status.reason(), code_name(status.code()));
  return fmt::format("{} ({}, 0x{:x})", status.reason(), code_name(status.code()), status.detail());
}

void check(const Status& status, const std::string& context) {
  if (!status.is_ok()) throw ToolError(fmt::format("{}: {}", context, describe(status)));
}

}  // namespace privota::tools
