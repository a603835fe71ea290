// Partition tables as CSV text, with the rules of ESP-IDF's gen_esp32part.py (v4.4.3, plus IDF 5's `readonly`
// flag and 4 KiB data alignment) and ESP Privilege Separation's user_* subtypes, and the CSV → binary
// direction of that tool.
//
// A CSV line is `name, type, subtype, offset, size, flags`; blank lines and lines starting with '#' are
// skipped, missing trailing fields are empty, columns after the sixth are ignored. $NAME / ${NAME} are
// replaced by the variable's value first. An empty offset follows the previous partition (aligned to 64 KiB
// for apps, to the data alignment otherwise); a negative size is an end address (size = -value - offset).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "privota/partition_table.h"

namespace privota::tools {

struct CsvError {
  int line;             // 1-based line of the CSV the problem is on; 0 when it concerns the whole file
  std::string message;  // one line, complete ("line 5: partition 'ota_1' ..."): what is wrong and what to do
};

struct CsvOptions {
  uint32_t table_offset = kPartitionTableOffset;  // the table's sector; partitions start after it
  std::optional<uint32_t> flash_size;  // when given, everything must fit and the core's validate() runs

  // Offset alignment of every partition that is not an app. 0x1000 is IDF 5's rule and what our bootloader
  // checks; 4 reproduces IDF 4.4, whose automatic offsets could then start a data partition mid-sector.
  uint32_t data_alignment = kDataPartitionAlign;
  // Value of a $NAME / ${NAME} reference, or nullopt if it is not defined (the text then stays as written).
  // Unset means the process environment, as gen_esp32part does.
  std::function<std::optional<std::string>(std::string_view name)> lookup_variable;
  // If set, receives gen_esp32part's warnings (a name that is another type's/subtype's keyword, a data
  // partition not on a 4 KiB boundary); they never stop the parse.
  std::vector<CsvError>* warnings = nullptr;
};

// Most partitions a table can hold as gen_esp32part writes it: the records, the MD5 record and at least one
// 0xFF end record must fit in 0xC00 bytes.
constexpr size_t kMaxCsvPartitions = kPartitionTableMaxSize / kPartitionEntrySize - 2;

// Parses a CSV into a table with gen_esp32part's rules (auto offsets, K/M sizes, hex/decimal, comments, 64
// KiB app alignment, named/numeric types and subtypes, flags) and its refusals (overlaps, missing size,
// unknown flag/type/subtype, duplicate names, more than one otadata/uotadata, otadata/uotadata size !=
// 0x2000, misaligned offsets, names longer than 16 bytes, too many partitions, beyond flash size if given).
// Stricter than the tool on purpose: a name longer than 16 bytes is refused, not cut; an empty table and zero
// sizes are refused; values that crash the tool (type 0x100, offsets past 4 GiB) are refused with a message.
std::variant<PartitionTable, CsvError> parse_partition_csv(std::string_view text,
                                                           const CsvOptions& options = {});

// The binary → CSV direction, formatted like gen_esp32part's to_csv: a two-line header, then per partition
// `name,type,subtype,0xOFFSET,SIZE,flags` with names where they exist (numbers in decimal otherwise) and the
// size as nM, nK or 0x hex. Flag bits that have no name are listed in a '#' line under the partition, as a
// CSV cannot carry them.
std::string to_partition_csv(const PartitionTable& table);

// The 0xC00-byte binary table: records, MD5 record, 0xFF padding (PartitionTable::serialize with MD5).
// Without MD5 (gen_esp32part --disable-md5sum) the MD5 record is left as 0xFF.
std::vector<uint8_t> to_partition_binary(const PartitionTable& table);
std::vector<uint8_t> to_partition_binary(const PartitionTable& table, bool with_md5);

}  // namespace privota::tools
