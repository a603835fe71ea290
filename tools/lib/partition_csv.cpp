#include "partition_csv.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "partition_names.h"
#include "privota/host/mbedtls_digest.h"

namespace privota::tools {
namespace {

constexpr uint8_t kApp = static_cast<uint8_t>(PartitionType::kApp);
constexpr uint8_t kData = static_cast<uint8_t>(PartitionType::kData);
// gen_esp32part reserves the whole 4 KiB sector that holds the table.
constexpr uint32_t kTableSectorSize = 0x1000;
constexpr int64_t kAddressLimit = int64_t{1} << 32;
constexpr const char* kNumberHint =
    "a whole number of bytes, decimal or 0x hex, optionally with a K or M suffix";

// One partition line as written; place() turns offset and size into real addresses.
struct Row {
  int line = 0;
  std::string name;
  uint8_t type = 0;
  uint8_t subtype = 0;
  std::optional<int64_t> offset;  // empty: follows the previous partition
  int64_t size = 0;               // negative: -(end address) until placed
  uint32_t flags = 0;

  int64_t end() const { return *offset + size; }
};

using MaybeError = std::optional<CsvError>;

template <typename... Args>
CsvError error_at(int line, fmt::format_string<Args...> format, Args&&... args) {
  std::string message = fmt::format(format, std::forward<Args>(args)...);
  if (line > 0) message = fmt::format("line {}: {}", line, message);
  return CsvError{line, std::move(message)};
}

// Python's str.splitlines() for ASCII text: \n, \r, \r\n, \v, \f and \x1c-\x1e all end a line, and a final
// line break does not start another line. Line numbers in errors count these lines, as the tool does.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\n' && c != '\r' && c != '\v' && c != '\f' && (c < '\x1c' || c > '\x1e')) continue;
    lines.push_back(text.substr(start, i - start));
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(
        strip_blanks(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Missing trailing fields count as empty; columns past the sixth are ignored.
  fields.resize(std::max<size_t>(fields.size(), 6));
  return fields;
}

std::string hex(int64_t value) {
  return value < 0 ? fmt::format("-{:#x}", -value) : fmt::format("{:#x}", value);
}

std::string range(const Row& row) {
  return fmt::format("{:#x}-{:#x}", *row.offset, row.end() - 1);
}

std::string type_and_subtype(const Row& row) {
  return fmt::format("{}/{}", partition_type_name(row.type), partition_subtype_name(row.type, row.subtype));
}

std::string joined_names(std::span<const NamedValue> names) {
  std::string out;
  for (const NamedValue& n : names) {
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}

int64_t align_up(int64_t value, int64_t align) {
  return (value + align - 1) / align * align;
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::optional<std::string> lookup(const CsvOptions& options, std::string_view name) {
  if (options.lookup_variable) return options.lookup_variable(name);
  if (const char* value = std::getenv(std::string(name).c_str())) return std::string(value);
  return std::nullopt;
}

// $NAME and ${NAME} take the variable's value (Python's os.path.expandvars). The tool leaves an undefined one
// in place and usually fails later on the odd field; we stop at once and name the variable.
std::variant<std::string, CsvError> expand_variables(std::string_view line, int line_no,
                                                     const CsvOptions& options) {
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    const size_t dollar = line.find('$', i);
    if (dollar == std::string_view::npos) break;
    out.append(line.substr(i, dollar - i));
    size_t end = dollar + 1;
    std::string_view name;
    if (end < line.size() && line[end] == '{') {
      const size_t close = line.find('}', end);
      if (close == std::string_view::npos) {
        out += '$';
        i = dollar + 1;
        continue;
      }
      name = line.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      while (end < line.size() && is_word_char(line[end]))
        ++end;
      name = line.substr(dollar + 1, end - dollar - 1);
    }
    if (name.empty()) {  // a lone '$' or "${}" is just text
      out.append(line.substr(dollar, end - dollar));
      i = end;
      continue;
    }
    std::optional<std::string> value = lookup(options, name);
    if (!value) {
      return error_at(line_no, "unknown variable '{}': define it in the environment or write its value",
                      name);
    }
    out += *value;
    i = end;
  }
  if (i < line.size()) out.append(line.substr(i));
  return out;
}

class CsvParser {
 public:
  explicit CsvParser(const CsvOptions& options) : options_(options) {}

  std::variant<PartitionTable, CsvError> parse(std::string_view text) {
    if (MaybeError e = read_lines(text)) return *e;
    if (rows_.empty()) {
      return error_at(
          0,
          "the CSV defines no partitions: add lines of the form 'name, type, subtype, offset, size, "
          "flags'");
    }
    for (auto check : {&CsvParser::place, &CsvParser::check_each, &CsvParser::check_names,
                       &CsvParser::check_ota_data, &CsvParser::check_flash_size, &CsvParser::check_count}) {
      if (MaybeError e = (this->*check)()) return *e;
    }
    return build_table();
  }

 private:
  MaybeError read_lines(std::string_view text) {
    const std::vector<std::string_view> lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
      const int line_no = static_cast<int>(i + 1);
      // Comments may mention variables that are not set; only partition lines must resolve theirs.
      const std::string_view raw = strip_blanks(lines[i]);
      if (raw.empty() || raw.front() == '#') continue;
      auto expanded = expand_variables(lines[i], line_no, options_);
      if (auto* e = std::get_if<CsvError>(&expanded)) return *e;
      const std::string_view line = strip_blanks(std::get<std::string>(expanded));
      if (line.empty() || line.front() == '#') continue;
      Row row;
      row.line = line_no;
      if (MaybeError e = parse_row(split_fields(line), row)) return e;
      rows_.push_back(std::move(row));
    }
    return std::nullopt;
  }

  // Fields are checked left to right, so the first thing wrong on a line is the one reported.
  MaybeError parse_row(const std::vector<std::string_view>& fields, Row& row) {
    row.name = std::string(fields[0]);
    if (row.name.size() > kPartitionNameMax) {
      return error_at(row.line,
                      "partition name '{}' is {} bytes long: a name holds at most {} bytes, shorten it",
                      row.name, row.name.size(), kPartitionNameMax);
    }
    for (auto field : {&CsvParser::parse_type, &CsvParser::parse_subtype, &CsvParser::parse_offset,
                       &CsvParser::parse_size, &CsvParser::parse_flags}) {
      if (MaybeError e = (this->*field)(fields, row)) return e;
    }
    return std::nullopt;
  }

  MaybeError parse_type(const std::vector<std::string_view>& fields, Row& row) {
    const std::string_view text = fields[1];
    if (text.empty()) {
      return error_at(row.line, "partition '{}' has no type: write app, data or a number 0x00-0xff",
                      row.name);
    }
    if (std::optional<uint8_t> type = parse_partition_type(text)) {
      row.type = *type;
      return std::nullopt;
    }
    if (std::optional<int64_t> number = parse_partition_int(text)) {
      return error_at(row.line, "partition '{}' has type {}, which does not fit in one byte: use 0x00-0xff",
                      row.name, hex(*number));
    }
    return error_at(row.line, "partition '{}' has unknown type '{}': use {} or a number 0x00-0xff", row.name,
                    text, joined_names(partition_type_names()));
  }

  MaybeError parse_subtype(const std::vector<std::string_view>& fields, Row& row) {
    const std::string_view text = fields[2];
    if (std::optional<uint8_t> subtype = parse_partition_subtype(row.type, text)) {
      row.subtype = *subtype;
      return std::nullopt;
    }
    const std::span<const NamedValue> names = partition_subtype_names(row.type);
    if (text.empty()) {
      return error_at(row.line, "app partition '{}' has no subtype: write one of {} or a number", row.name,
                      joined_names(names));
    }
    if (std::optional<int64_t> number = parse_partition_int(text)) {
      return error_at(row.line,
                      "partition '{}' has subtype {}, which does not fit in one byte: use 0x00-0xff",
                      row.name, hex(*number));
    }
    if (names.empty()) {
      return error_at(
          row.line,
          "partition '{}' has subtype '{}', but type {} has no named subtypes: write the subtype as a "
          "number 0x00-0xff",
          row.name, text, partition_type_name(row.type));
    }
    return error_at(row.line,
                    "partition '{}' has unknown {} subtype '{}': use one of {} or a number 0x00-0xff",
                    row.name, partition_type_name(row.type), text, joined_names(names));
  }

  MaybeError parse_offset(const std::vector<std::string_view>& fields, Row& row) {
    const std::string_view text = fields[3];
    if (text.empty()) return std::nullopt;
    const std::optional<int64_t> offset = parse_partition_int(text);
    if (!offset) {
      return error_at(
          row.line,
          "partition '{}' has invalid offset '{}': write {}, or leave it empty to follow the previous "
          "partition",
          row.name, text, kNumberHint);
    }
    if (*offset < 0 || *offset >= kAddressLimit) {
      return error_at(
          row.line,
          "partition '{}' has offset {}, outside the 32-bit flash address space: write an address in "
          "the flash, or leave it empty",
          row.name, hex(*offset));
    }
    row.offset = offset;
    return std::nullopt;
  }

  MaybeError parse_size(const std::vector<std::string_view>& fields, Row& row) {
    const std::string_view text = fields[4];
    if (text.empty()) {
      return error_at(row.line, "partition '{}' has no size: write one, e.g. 0x6000, 24K or 1M", row.name);
    }
    const std::optional<int64_t> size = parse_partition_int(text);
    if (!size)
      return error_at(row.line, "partition '{}' has invalid size '{}': write {}", row.name, text,
                      kNumberHint);
    if (*size == 0)
      return error_at(row.line, "partition '{}' has size 0: give it a size, or remove it", row.name);
    if (*size >= kAddressLimit || *size <= -kAddressLimit) {
      return error_at(row.line, "partition '{}' has size {}, larger than the 32-bit flash address space",
                      row.name, hex(*size));
    }
    row.size = *size;
    return std::nullopt;
  }

  MaybeError parse_flags(const std::vector<std::string_view>& fields, Row& row) {
    std::string_view text = fields[5];
    // Only empty items are skipped: the tool does not trim blanks around ':'.
    while (!text.empty()) {
      const size_t colon = text.find(':');
      const std::string_view flag = text.substr(0, colon);
      text = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
      if (flag.empty()) continue;
      const std::optional<uint32_t> bit = parse_partition_flag(flag);
      if (!bit) {
        return error_at(
            row.line,
            "partition '{}' has unknown flag '{}': known flags are {} (lower case, separated by ':')",
            row.name, flag, joined_names(partition_flag_names()));
      }
      row.flags |= *bit;
    }
    return std::nullopt;
  }

  // gen_esp32part walks the lines in order: an empty offset follows the previous partition, an explicit one
  // may not go back before the previous partition's end (nor into the table's sector), a negative size is an
  // end address.
  MaybeError place() {
    int64_t next_free = int64_t{options_.table_offset} + kTableSectorSize;
    const Row* previous = nullptr;
    for (Row& row : rows_) {
      if (row.offset && *row.offset < next_free) return misplaced(row, previous, next_free);
      if (!row.offset) row.offset = align_up(next_free, alignment(row.type));
      if (row.size < 0) {
        const int64_t end = -row.size;
        if (end <= *row.offset) {
          return error_at(
              row.line,
              "partition '{}' has size {}, i.e. it ends at {}, but it starts at {}: give an end address "
              "past its start, or a positive size",
              row.name, hex(row.size), hex(end), hex(*row.offset));
        }
        row.size = end - *row.offset;
      }
      if (row.end() > kAddressLimit) {
        return error_at(row.line, "partition '{}' at {} with size {} ends past 4 GiB: shrink or move it",
                        row.name, hex(*row.offset), hex(row.size));
      }
      next_free = row.end();
      previous = &row;
    }
    return std::nullopt;
  }

  CsvError misplaced(const Row& row, const Row* previous, int64_t next_free) const {
    if (previous == nullptr) {
      return error_at(
          row.line,
          "partition '{}' at {} overlaps the partition table's sector ({:#x}-{:#x}): use offset {} or "
          "higher, or leave it empty",
          row.name, hex(*row.offset), options_.table_offset, next_free - 1, hex(next_free));
    }
    const int64_t row_end = row.size < 0 ? -row.size : *row.offset + row.size;
    if (row_end > *previous->offset) {
      return error_at(
          row.line, "partition '{}' at {} overlaps '{}' ({}): move it to {} or later, or shrink '{}'",
          row.name, hex(*row.offset), previous->name, range(*previous), hex(next_free), previous->name);
    }
    return error_at(
        row.line,
        "partition '{}' at {} comes after '{}' ({}) in the file but lies before it: list partitions in "
        "ascending offset order",
        row.name, hex(*row.offset), previous->name, range(*previous));
  }

  int64_t alignment(uint8_t type) const {
    return type == kApp ? int64_t{kAppPartitionAlign} : int64_t{options_.data_alignment};
  }

  // Rules for each partition on its own.
  MaybeError check_each() {
    for (const Row& row : rows_) {
      const int64_t align = alignment(row.type);
      if (*row.offset % align != 0) {
        return error_at(
            row.line,
            "{} partition '{}' at {} is not aligned to {:#x}: use {} (the next aligned offset) or leave "
            "the offset empty",
            row.type == kApp ? "app" : "data", row.name, hex(*row.offset), align,
            hex(align_up(*row.offset, align)));
      }
      if ((row.flags & partition_flag::kReadOnly) != 0 && is_always_written(row)) {
        return error_at(row.line,
                        "partition '{}' is {}, which the firmware always writes: remove the readonly flag",
                        row.name, type_and_subtype(row));
      }
      warn_about(row);
    }
    return std::nullopt;
  }

  static bool is_always_written(const Row& row) {
    return row.type == kData && (row.subtype == data_subtype::kOta || row.subtype == data_subtype::kUserOta ||
                                 row.subtype == data_subtype::kCoredump);
  }

  void warn_about(const Row& row) const {
    if (options_.warnings == nullptr) return;
    if (row.type != kApp && *row.offset % kDataPartitionAlign != 0) {
      options_.warnings->push_back(error_at(
          row.line,
          "data partition '{}' at {} does not start on a 4 KiB sector: erasing it also erases its neighbour",
          row.name, hex(*row.offset)));
    }
    for (const NamedValue& type : partition_type_names()) {
      if (type.name == row.name && type.value != row.type) {
        options_.warnings->push_back(error_at(row.line,
                                              "partition '{}' is named like a type but is {}: mistake?",
                                              row.name, type_and_subtype(row)));
      }
    }
    for (uint8_t t : {kApp, kData}) {
      for (const NamedValue& subtype : partition_subtype_names(t)) {
        if (subtype.name == row.name && (t != row.type || subtype.value != row.subtype)) {
          options_.warnings->push_back(
              error_at(row.line, "partition '{}' is named like the {} subtype '{}' but is {}: mistake?",
                       row.name, partition_type_name(t), subtype.name, type_and_subtype(row)));
        }
      }
    }
  }

  MaybeError check_names() {
    for (size_t i = 0; i < rows_.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (rows_[i].name == rows_[j].name) {
          return error_at(rows_[i].line,
                          "partition name '{}' is already used on line {}: names must be unique, rename "
                          "one",
                          rows_[i].name, rows_[j].line);
        }
      }
    }
    return std::nullopt;
  }

  // otadata (and Privilege Separation's uotadata) holds exactly two 4 KiB select sectors, and the bootloader
  // (resp. the protected app) reads the first partition of that subtype, so there must be at most one.
  MaybeError check_ota_data() {
    struct SelectData {
      uint8_t subtype;
      const char* role;
    };
    for (const SelectData& kind :
         {SelectData{data_subtype::kOta, "otadata"}, SelectData{data_subtype::kUserOta, "uotadata"}}) {
      const Row* first = nullptr;
      for (const Row& row : rows_) {
        if (row.type != kData || row.subtype != kind.subtype) continue;
        if (first != nullptr) {
          return error_at(
              row.line,
              "partition '{}' is a second {} ({}; the first is '{}' on line {}): a table may have only "
              "one, remove one",
              row.name, kind.role, type_and_subtype(row), first->name, first->line);
        }
        first = &row;
      }
      if (first != nullptr && first->size != kOtaDataPartitionSize) {
        return error_at(first->line, "{} partition '{}' ({}) has size {}: set it to exactly {:#x} (8K)",
                        kind.role, first->name, type_and_subtype(*first), hex(first->size),
                        kOtaDataPartitionSize);
      }
    }
    return std::nullopt;
  }

  MaybeError check_flash_size() {
    if (!options_.flash_size) return std::nullopt;
    const int64_t flash_size = *options_.flash_size;
    for (const Row& row : rows_) {
      if (row.end() > flash_size) {
        return error_at(
            row.line,
            "partition '{}' ({}) ends beyond the {:#x}-byte ({} KiB) flash: shrink or move it, or use a "
            "larger flash",
            row.name, range(row), flash_size, flash_size / 1024);
      }
    }
    return std::nullopt;
  }

  MaybeError check_count() {
    if (rows_.size() <= kMaxCsvPartitions) return std::nullopt;
    const Row& row = rows_[kMaxCsvPartitions];
    return error_at(
        row.line,
        "partition '{}' is number {}: a table holds at most {} partitions ({:#x} bytes with the MD5 "
        "record and an end marker); merge or remove some",
        row.name, kMaxCsvPartitions + 1, kMaxCsvPartitions, kPartitionTableMaxSize);
  }

  std::variant<PartitionTable, CsvError> build_table() const {
    PartitionTable table;
    for (const Row& row : rows_) {
      Partition p;
      p.type = row.type;
      p.subtype = row.subtype;
      p.offset = static_cast<uint32_t>(*row.offset);
      p.size = static_cast<uint32_t>(row.size);
      p.flags = row.flags;
      row.name.copy(p.name, kPartitionNameMax);
      const Status status = table.add(p);
      if (!status.is_ok()) return error_at(row.line, "partition '{}': {}", row.name, status.reason());
    }
    if (options_.flash_size) {
      const Status status = table.validate(*options_.flash_size);
      if (!status.is_ok()) {
        const Row& row = rows_.at(status.detail());
        return error_at(row.line, "partition '{}' breaks the bootloader's layout rules: {}", row.name,
                        status.reason());
      }
    }
    return table;
  }

  const CsvOptions& options_;
  std::vector<Row> rows_;
};

}  // namespace

std::variant<PartitionTable, CsvError> parse_partition_csv(std::string_view text, const CsvOptions& options) {
  return CsvParser(options).parse(text);
}

namespace {

std::string csv_number(uint8_t value, std::optional<std::string_view> name) {
  return name ? std::string(*name) : fmt::format("{}", value);
}

std::string csv_size(uint32_t size) {
  if (size % 0x100000 == 0) return fmt::format("{}M", size / 0x100000);
  if (size % 0x400 == 0) return fmt::format("{}K", size / 0x400);
  return fmt::format("{:#x}", size);
}

}  // namespace

std::string to_partition_csv(const PartitionTable& table) {
  constexpr uint32_t kKnownFlags = partition_flag::kEncrypted | partition_flag::kReadOnly;
  std::string out = "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n";
  for (size_t i = 0; i < table.count(); ++i) {
    const Partition& p = table[i];
    out += fmt::format("{},{},{},{:#x},{},{}\n", p.name,
                       csv_number(p.type, name_of(partition_type_names(), p.type)),
                       csv_number(p.subtype, name_of(partition_subtype_names(p.type), p.subtype)), p.offset,
                       csv_size(p.size), format_flags(p.flags & kKnownFlags));
    if ((p.flags & ~kKnownFlags) != 0) {
      out += fmt::format("# '{}' also has flag bits {:#010x}, which have no name and are lost in CSV\n",
                         p.name, p.flags & ~kKnownFlags);
    }
  }
  return out;
}

std::vector<uint8_t> to_partition_binary(const PartitionTable& table) {
  return to_partition_binary(table, true);
}

std::vector<uint8_t> to_partition_binary(const PartitionTable& table, bool with_md5) {
  std::vector<uint8_t> bytes(kPartitionTableMaxSize);
  host::MbedMd5 md5;
  const Status status = table.serialize(ByteSpan(bytes.data(), bytes.size()), md5);
  if (!status.is_ok()) throw std::logic_error(status.reason());  // only a short buffer fails, and ours is not
  if (!with_md5) {
    const size_t md5_at = table.count() * kPartitionEntrySize;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(md5_at),
              bytes.begin() + static_cast<std::ptrdiff_t>(md5_at + kPartitionEntrySize), uint8_t{0xFF});
  }
  return bytes;
}

}  // namespace privota::tools
