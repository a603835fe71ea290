// privota partition gen|show: partition tables between CSV (what people write) and binary (what the
// bootloader reads), with ESP-IDF gen_esp32part.py's rules.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "file_io.h"
#include "partition_csv.h"
#include "partition_report.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "tool_error.h"
#include "units.h"

namespace privota::cli {
namespace {

using tools::ToolError;

// A binary table starts with an entry's magic (AA 50); a CSV cannot.
bool looks_binary(const std::vector<uint8_t>& bytes, size_t at = 0) {
  return bytes.size() >= at + 2 && bytes[at] == 0xAA && bytes[at + 1] == 0x50;
}

std::optional<uint32_t> parse_size_option(const std::string& text, const char* what) {
  if (text.empty()) return std::nullopt;
  const auto size = tools::parse_byte_count(text);
  if (!size) throw ToolError(fmt::format("{} '{}' is not a byte count (e.g. 4MB, 0x400000)", what, text));
  return size;
}

}  // namespace

PartitionTable load_partition_table(const std::string& path, std::optional<uint32_t> flash_size) {
  const std::vector<uint8_t> bytes = tools::read_binary_file(path);
  host::MbedMd5 md5;
  if (looks_binary(bytes) && bytes.size() <= kPartitionTableMaxSize) {
    const Result<PartitionTable> table = PartitionTable::parse({bytes.data(), bytes.size()}, md5);
    tools::check(table.status(), path);
    return table.value();
  }
  if (bytes.size() >= kPartitionTableOffset + kPartitionTableMaxSize &&
      looks_binary(bytes, kPartitionTableOffset)) {
    const Result<PartitionTable> table =
        PartitionTable::parse({bytes.data() + kPartitionTableOffset, kPartitionTableMaxSize}, md5);
    tools::check(table.status(), fmt::format("{} (flash image, table at 0x8000)", path));
    return table.value();
  }
  const std::string text(bytes.begin(), bytes.end());
  if (text.rfind("-----BEGIN", 0) == 0) {
    throw ToolError(
        fmt::format("'{}' is a PEM file (a key or certificate), not a partition table; give "
                    "table.csv, table.bin or flash.bin",
                    path));
  }
  tools::CsvOptions options;
  options.flash_size = flash_size;
  const auto parsed = tools::parse_partition_csv(std::string(bytes.begin(), bytes.end()), options);
  if (const auto* error = std::get_if<tools::CsvError>(&parsed)) {
    throw ToolError(fmt::format("{}: {}", path, error->message));  // the message names the line
  }
  return std::get<PartitionTable>(parsed);
}

void add_partition_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("partition", "Partition tables: CSV <-> binary, show");
  group->require_subcommand(1);

  struct GenOptions {
    std::string input, output, flash_size;
    bool force = false;
  };
  auto gen = std::make_shared<GenOptions>();
  CLI::App* gen_cmd = group->add_subcommand(
      "gen",
      "Convert a partition table between CSV and the binary the bootloader reads, with ESP-IDF "
      "gen_esp32part.py's rules and refusals. The -o name decides the form: *.csv gets CSV, any other "
      "name the binary");
  gen_cmd->add_option("input", gen->input, "table.csv, table.bin or flash.bin")->required();
  gen_cmd->add_option("-o,--output", gen->output, "out.csv (CSV) or out.bin (binary)")->required();
  gen_cmd->add_flag("--force", gen->force, "replace an existing file");
  gen_cmd->add_option("--flash-size", gen->flash_size,
                      "refuse partitions that end beyond this size (e.g. 4MB)");
  gen_cmd->callback([gen] {
    const tools::OutputFile out{gen->output, gen->force, {gen->input}};
    tools::check_output(out);
    const PartitionTable table =
        load_partition_table(gen->input, parse_size_option(gen->flash_size, "--flash-size"));
    if (std::filesystem::path(gen->output).extension() == ".csv") {
      tools::write_output(out, tools::to_partition_csv(table));
    } else {
      tools::write_output(out, tools::to_partition_binary(table));
    }
  });

  struct ShowOptions {
    std::string input;
    bool json = false;
    bool csv = false;
  };
  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd =
      group->add_subcommand("show", "Show a partition table from table.bin, a flash image or a CSV");
  show_cmd->add_option("input", show->input, "table.bin, flash.bin or table.csv")->required();
  show_cmd->add_flag("--json", show->json, "print JSON");
  show_cmd->add_flag("--csv", show->csv, "print as CSV");
  show_cmd->callback([show] {
    const PartitionTable table = load_partition_table(show->input, std::nullopt);
    if (show->csv) {
      std::cout << tools::to_partition_csv(table);
      return;
    }
    print_output(show->json, tools::partition_table_text(table), tools::partition_table_json(table).dump(2));
  });
}

}  // namespace privota::cli
