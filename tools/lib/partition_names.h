// How partition fields are spelled in a CSV table and on screen: type, subtype and flag names, and the
// integer syntax gen_esp32part.py accepts (ESP-IDF components/partition_table).
//
// The name tables are ESP-IDF v4.4's plus IDF 5's `littlefs` subtype and `readonly` flag, plus ESP Privilege
// Separation's `user_ota` (data 0x50) and `user_0`/`user_1` (app 0x40/0x41).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace privota::tools {

// "app", "data", or the number in hex ("0x40").
std::string partition_type_name(uint8_t type);
// The subtype's name for this type ("ota_0", "nvs", "user_ota", "user_0"), or the number in hex ("0x05").
std::string partition_subtype_name(uint8_t type, uint8_t subtype);

// A type as gen_esp32part accepts it: a name (case-insensitive) or a number (see parse_partition_int) in
// 0..255.
std::optional<uint8_t> parse_partition_type(std::string_view text);
// A subtype of `type` as gen_esp32part accepts it: a name of that type (case-insensitive; only app and data
// have names) or a number in 0..255. Empty text means `undefined` (0x06) for every type but app, which must
// name its subtype.
std::optional<uint8_t> parse_partition_subtype(uint8_t type, std::string_view text);

// Colon-separated flag names in bit order ("encrypted:readonly"), "" for none. Bits without a name are
// appended as one hex number ("encrypted:0x8") so nothing is hidden; a CSV cannot carry those.
std::string format_flags(uint32_t flags);
// The bit of one flag name (case-sensitive, as in gen_esp32part), or nullopt.
std::optional<uint32_t> parse_partition_flag(std::string_view name);

// gen_esp32part's integer syntax: Python's int(text, 0) (optional sign; 0x/0o/0b prefixes; decimal without
// leading zeros; single underscores between digits; surrounding blanks) after peeling K or M suffixes
// (case-insensitive, ×1024 / ×1024², repeatable: "1kk" = 1M). Magnitudes beyond 2^53 are clamped to 2^53 so
// that range checks refuse them instead of wrapping.
std::optional<int64_t> parse_partition_int(std::string_view text);

// A name and the value it stands for, in gen_esp32part's order (which is also the order of its error
// messages).
struct NamedValue {
  std::string_view name;
  uint32_t value;
};
std::span<const NamedValue> partition_type_names();
// Empty for types that have no named subtypes.
std::span<const NamedValue> partition_subtype_names(uint8_t type);
// Flag name → bit mask.
std::span<const NamedValue> partition_flag_names();

// The name of `value` in `names`, if it has one.
std::optional<std::string_view> name_of(std::span<const NamedValue> names, uint32_t value);

// Blanks removed from both ends the way gen_esp32part.py's Python str.strip() removes them (ASCII).
std::string_view strip_blanks(std::string_view s);

}  // namespace privota::tools
