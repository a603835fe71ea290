#include "partition_names.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

#include "privota/partition_table.h"

namespace privota::tools {
namespace {

constexpr uint8_t kApp = static_cast<uint8_t>(PartitionType::kApp);
constexpr uint8_t kData = static_cast<uint8_t>(PartitionType::kData);

constexpr std::array<NamedValue, 2> kTypeNames{{{"app", kApp}, {"data", kData}}};

// gen_esp32part lists factory and test, then the OTA slots, then (with the Privilege Separation patch) the
// user slots; its "Known keywords" messages follow this order.
constexpr std::array<NamedValue, 20> kAppSubtypeNames{{
    {"factory", app_subtype::kFactory},
    {"test", app_subtype::kTest},
    {"ota_0", 0x10},
    {"ota_1", 0x11},
    {"ota_2", 0x12},
    {"ota_3", 0x13},
    {"ota_4", 0x14},
    {"ota_5", 0x15},
    {"ota_6", 0x16},
    {"ota_7", 0x17},
    {"ota_8", 0x18},
    {"ota_9", 0x19},
    {"ota_10", 0x1A},
    {"ota_11", 0x1B},
    {"ota_12", 0x1C},
    {"ota_13", 0x1D},
    {"ota_14", 0x1E},
    {"ota_15", app_subtype::kOtaMax},
    {"user_0", app_subtype::kUser0},
    {"user_1", app_subtype::kUser1},
}};
static_assert(app_subtype::kOtaMin == 0x10 && app_subtype::kOtaMax == 0x1F);

constexpr std::array<NamedValue, 12> kDataSubtypeNames{{
    {"ota", data_subtype::kOta},
    {"phy", data_subtype::kPhy},
    {"nvs", data_subtype::kNvs},
    {"coredump", data_subtype::kCoredump},
    {"nvs_keys", data_subtype::kNvsKeys},
    {"efuse", data_subtype::kEfuse},
    {"undefined", data_subtype::kUndefined},
    {"user_ota", data_subtype::kUserOta},
    {"esphttpd", data_subtype::kEspHttpd},
    {"fat", data_subtype::kFat},
    {"spiffs", data_subtype::kSpiffs},
    {"littlefs", data_subtype::kLittleFs},  // IDF 5
}};

constexpr std::array<NamedValue, 2> kFlagNames{{
    {"encrypted", partition_flag::kEncrypted}, {"readonly", partition_flag::kReadOnly},  // IDF 5
}};

// Past this the value can only be refused by a range check; clamping keeps the arithmetic exact below it.
constexpr uint64_t kMagnitudeLimit = uint64_t{1} << 53;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<uint32_t> value_of(std::span<const NamedValue> names, std::string_view name) {
  for (const NamedValue& n : names) {
    if (equals_ignoring_case(n.name, name)) return n.value;
  }
  return std::nullopt;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Digits of `base` with single underscores between them (Python's integer literal rule).
// `allow_leading_underscore` covers the one underscore Python allows right after a 0x/0o/0b prefix.
std::optional<uint64_t> parse_digits(std::string_view s, int base, bool allow_leading_underscore) {
  if (allow_leading_underscore && !s.empty() && s.front() == '_') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  bool previous_was_digit = false;
  for (char c : s) {
    if (c == '_') {
      if (!previous_was_digit) return std::nullopt;
      previous_was_digit = false;
      continue;
    }
    const int d = digit_value(c);
    if (d >= base) return std::nullopt;
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    if (value > kMagnitudeLimit) value = kMagnitudeLimit;
    previous_was_digit = true;
  }
  if (!previous_was_digit) return std::nullopt;  // trailing underscore
  return value;
}

std::optional<uint64_t> parse_unsigned(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0') {
    switch (s[1]) {
      case 'x':
      case 'X':
        return parse_digits(s.substr(2), 16, true);
      case 'o':
      case 'O':
        return parse_digits(s.substr(2), 8, true);
      case 'b':
      case 'B':
        return parse_digits(s.substr(2), 2, true);
      default:
        break;
    }
  }
  std::optional<uint64_t> value = parse_digits(s, 10, false);
  // Python refuses "010" (it would be octal in C) but accepts "0", "00" and "0_0".
  if (value && *value != 0 && !s.empty() && s.front() == '0') return std::nullopt;
  return value;
}

std::optional<uint8_t> as_byte(std::optional<int64_t> value) {
  if (!value || *value < 0 || *value > 0xFF) return std::nullopt;
  return static_cast<uint8_t>(*value);
}

}  // namespace

std::span<const NamedValue> partition_type_names() {
  return kTypeNames;
}

std::span<const NamedValue> partition_subtype_names(uint8_t type) {
  if (type == kApp) return kAppSubtypeNames;
  if (type == kData) return kDataSubtypeNames;
  return {};
}

std::span<const NamedValue> partition_flag_names() {
  return kFlagNames;
}

std::optional<std::string_view> name_of(std::span<const NamedValue> names, uint32_t value) {
  for (const NamedValue& n : names) {
    if (n.value == value) return n.name;
  }
  return std::nullopt;
}

std::string partition_type_name(uint8_t type) {
  if (auto name = name_of(kTypeNames, type)) return std::string(*name);
  return fmt::format("{:#04x}", type);
}

std::string partition_subtype_name(uint8_t type, uint8_t subtype) {
  if (auto name = name_of(partition_subtype_names(type), subtype)) return std::string(*name);
  return fmt::format("{:#04x}", subtype);
}

std::optional<int64_t> parse_partition_int(std::string_view text) {
  uint64_t multiplier = 1;
  text = strip_blanks(text);
  // gen_esp32part peels one suffix at a time and tries again, so suffixes repeat and blanks may precede them.
  while (!text.empty()) {
    const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
    if (last != 'k' && last != 'm') break;
    multiplier *= last == 'k' ? 1024 : 1024 * 1024;
    if (multiplier > kMagnitudeLimit) multiplier = kMagnitudeLimit;
    text.remove_suffix(1);
  }
  text = strip_blanks(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const std::optional<uint64_t> magnitude = parse_unsigned(text);
  if (!magnitude) return std::nullopt;
  uint64_t value = *magnitude;
  value = (value != 0 && multiplier > kMagnitudeLimit / value) ? kMagnitudeLimit : value * multiplier;
  const auto signed_value = static_cast<int64_t>(value);
  return negative ? -signed_value : signed_value;
}

std::optional<uint8_t> parse_partition_type(std::string_view text) {
  text = strip_blanks(text);
  if (text.empty()) return std::nullopt;
  if (auto value = value_of(kTypeNames, text)) return static_cast<uint8_t>(*value);
  return as_byte(parse_partition_int(text));
}

std::optional<uint8_t> parse_partition_subtype(uint8_t type, std::string_view text) {
  text = strip_blanks(text);
  if (text.empty()) {
    if (type == kApp) return std::nullopt;
    return data_subtype::kUndefined;
  }
  if (auto value = value_of(partition_subtype_names(type), text)) return static_cast<uint8_t>(*value);
  return as_byte(parse_partition_int(text));
}

std::string format_flags(uint32_t flags) {
  std::string out;
  for (const NamedValue& flag : kFlagNames) {
    if ((flags & flag.value) == 0) continue;
    if (!out.empty()) out += ':';
    out += flag.name;
    flags &= ~flag.value;
  }
  if (flags != 0) {
    if (!out.empty()) out += ':';
    out += fmt::format("{:#x}", flags);
  }
  return out;
}

std::optional<uint32_t> parse_partition_flag(std::string_view name) {
  for (const NamedValue& flag : kFlagNames) {
    if (flag.name == name) return flag.value;
  }
  return std::nullopt;
}

std::string_view strip_blanks(std::string_view s) {
  // Python's str.strip() on ASCII: space, \t..\r and \x1c..\x1f.
  const auto blank = [](char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
  };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

}  // namespace privota::tools
