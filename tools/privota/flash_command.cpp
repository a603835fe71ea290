// privota flash new|write|show: a device's whole flash as one file.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "file_io.h"
#include "flash_image.h"
#include "flash_report.h"
#include "privota/host/file_flash.h"
#include "tool_error.h"
#include "units.h"

namespace privota::cli {
namespace {

using tools::ToolError;

host::FileFlash open_flash(const std::string& path, bool read_only) {
  host::FileFlash::Options options;
  options.read_only = read_only;
  Result<host::FileFlash> flash = host::FileFlash::open(path, options);
  tools::check(flash.status(), fmt::format("opening flash file '{}'", path));
  return std::move(flash.value());
}

void add_new(CLI::App& group) {
  struct Options {
    std::string table, size = "4MB", output;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("new", "Create an erased flash file holding a partition table at 0x8000");
  cmd->add_option("--table", o->table, "partition table: table.csv or table.bin")->required();
  cmd->add_option("--size", o->size, "flash size (e.g. 4MB, 0x400000)")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "the flash file to create")->required();
  cmd->add_flag("--force", o->force, "replace an existing file (its contents are lost)");
  cmd->callback([o] {
    tools::check_output({o->output, o->force, {o->table}});
    const auto size = tools::parse_byte_count(o->size);
    if (!size) throw ToolError(fmt::format("--size '{}' is not a byte count (e.g. 4MB, 0x400000)", o->size));
    tools::create_flash_file(o->output, *size, load_partition_table(o->table, size));
  });
}

void add_write(CLI::App& group) {
  struct Options {
    std::string flash, partition, input;
    bool raw = false, force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("write", "Erase a partition and write a file into it (factory programming)");
  cmd->add_option("flash", o->flash, "flash.bin")->required();
  cmd->add_option("--partition", o->partition, "partition name, e.g. ota_0 or user_0")->required();
  cmd->add_option("input", o->input, "the file to write, e.g. app.bin")->required();
  cmd->add_flag("--raw", o->raw, "write into an app partition even if the file is not a valid app image");
  cmd->add_flag("--force", o->force,
                "write an app image that does not fit the slot (unsigned, or signed for the other level); "
                "for experiments: the device will not boot it");
  cmd->callback([o] {
    host::FileFlash flash = open_flash(o->flash, false);
    tools::write_partition(flash, {o->partition, tools::read_binary_file(o->input), o->raw, o->force});
  });
}

void add_show(CLI::App& group) {
  struct Options {
    std::string flash;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand("show",
                                       "Show the partition table, what each app slot holds and what "
                                       "otadata/uotadata select");
  cmd->add_option("flash", o->flash, "flash.bin")->required();
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] {
    host::FileFlash flash = open_flash(o->flash, true);
    const tools::FlashReport report = tools::inspect_flash(flash);
    print_output(o->json, tools::flash_report_text(report), tools::flash_report_json(report).dump(2));
  });
}

}  // namespace

void add_flash_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "flash", "Device flash files: new, write, show; the engine's steps: ota, boot, confirm, reject");
  group->require_subcommand(1);
  add_new(*group);
  add_write(*group);
  add_show(*group);
  add_flash_engine_commands(*group);
}

}  // namespace privota::cli
