#include "units.h"

#include <charconv>

#include <fmt/format.h>

namespace privota::tools {

std::optional<uint32_t> parse_byte_count(std::string_view text) {
  uint64_t multiplier = 1;
  for (const auto& [suffix, factor] :
       {std::pair{"MB", 1u << 20}, {"KB", 1u << 10}, {"M", 1u << 20}, {"K", 1u << 10}}) {
    const std::string_view s(suffix);
    if (text.size() > s.size() && text.substr(text.size() - s.size()) == s) {
      text.remove_suffix(s.size());
      multiplier = factor;
      break;
    }
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value > UINT32_MAX / multiplier) return std::nullopt;
  value *= multiplier;
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

std::string format_byte_count(uint32_t bytes) {
  if (bytes != 0 && bytes % (1u << 20) == 0) return fmt::format("{}M", bytes >> 20);
  if (bytes != 0 && bytes % (1u << 10) == 0) return fmt::format("{}K", bytes >> 10);
  return fmt::format("0x{:x}", bytes);
}

}  // namespace privota::tools
