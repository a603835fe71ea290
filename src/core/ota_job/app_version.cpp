#include "privota/app_version.h"

#include <string.h>

namespace privota {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr uint32_t kMaxDigits = 9;  // 999999999 fits a u32 without overflow checks

}  // namespace

bool parse_app_version(Span<const char> text, AppVersion& out) {
  out = AppVersion();
  size_t i = 0;
  if (i < text.size() && (text[i] == 'v' || text[i] == 'V')) ++i;
  while (true) {
    uint32_t value = 0;
    uint32_t digits = 0;
    while (i < text.size() && is_digit(text[i])) {
      if (++digits > kMaxDigits) return false;
      value = value * 10 + static_cast<uint32_t>(text[i] - '0');
      ++i;
    }
    if (digits == 0 || out.count == kMaxVersionParts) return false;
    out.parts[out.count++] = value;
    if (i == text.size() || text[i] == '-' || text[i] == '+') return true;
    if (text[i] != '.') return false;
    ++i;
  }
}

int compare_app_versions(const AppVersion& a, const AppVersion& b) {
  const uint32_t n = a.count > b.count ? a.count : b.count;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t x = i < a.count ? a.parts[i] : 0;
    const uint32_t y = i < b.count ? b.parts[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

bool app_version_is_newer(const char* candidate, const char* running) {
  AppVersion a;
  AppVersion b;
  const bool parsed = parse_app_version(Span<const char>(candidate, strlen(candidate)), a) &&
                      parse_app_version(Span<const char>(running, strlen(running)), b);
  if (!parsed) return strcmp(candidate, running) != 0;
  return compare_app_versions(a, b) > 0;
}

}  // namespace privota
