// Byte counts as people type them on the command line: 4194304, 0x400000, 4M, 4MB, 1500K, 1500KB.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace privota::tools {

// K and M are binary (1024, 1048576), as in ESP-IDF's tools. nullopt for anything else or above 4 GiB.
std::optional<uint32_t> parse_byte_count(std::string_view text);
// The shortest exact form: "4M", "1500K", "0x1234".
std::string format_byte_count(uint32_t bytes);

}  // namespace privota::tools
