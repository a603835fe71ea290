// privota flash new|write|show: a device's whole flash as one file.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.h"
#include "file_io.h"
#include "flash_image.h"
#include "flash_report.h"
#include "privota/app_slots.h"
#include "privota/chip.h"
#include "privota/host/chip_names.h"
#include "privota/host/file_flash.h"
#include "privota/host/slot_verifier.h"
#include "privota/signed_image.h"
#include "tool_error.h"
#include "trust_options.h"
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
  cmd->add_option("--size", o->size, "flash size: 1MB, 2MB, 4MB, 8MB or 16MB (esptool's sizes)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "the flash file to create")->required();
  cmd->add_flag("--force", o->force, "replace an existing file (its contents are lost)");
  cmd->callback([o] {
    tools::check_output({o->output, o->force, {o->table}});
    const auto size = tools::parse_byte_count(o->size);
    if (!size) throw ToolError(fmt::format("--size '{}' is not a byte count (e.g. 4MB, 0x400000)", o->size));
    tools::check_flash_size(*size);  // before the table is checked against it
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

struct ShowOptions {
  std::string flash, chip = "esp32c3";
  std::vector<std::string> key_digests, keys;
  std::string ca;
  bool json = false;
};

// The trust of one level, when the command line gives it.
std::optional<tools::Trust> trust_for(const ShowOptions& o, bool user) {
  tools::TrustOptions options;
  if (user) {
    if (o.ca.empty()) return std::nullopt;
    options.ca = o.ca;
  } else {
    if (o.key_digests.empty() && o.keys.empty()) return std::nullopt;
    options.key_digests = o.key_digests;
    options.keys = o.keys;
  }
  return std::optional<tools::Trust>(std::in_place, options);
}

// A slot verified as the device verifies it (host::SlotVerifier: its level's trust and floor, the chip and
// the schemes its ROM verifies, the slot's size).
nlohmann::json slot_verdict(Flash& flash, const tools::FlashReport& report, const tools::SlotReport& slot,
                            const ShowOptions& o, std::optional<tools::Trust>& trust) {
  if (slot.content == tools::SlotReport::Content::kErased) return {{"verified", false}, {"reason", "erased"}};
  if (!trust) return {{"verified", false}, {"reason", "not checked: no trust given for this level"}};
  const bool user =
      slot.partition.subtype == app_subtype::kUser0 || slot.partition.subtype == app_subtype::kUser1;
  Result<AppSlots> slots =
      AppSlots::from_table(flash, report.table, user ? AppLevel::kUser : AppLevel::kProtected);
  if (!slots.is_ok())
    return {{"verified", false}, {"reason", "not checked: " + tools::describe(slots.status())}};
  uint32_t index = 0;
  while (index < slots->slot_count && slots->slots[index].offset() != slot.partition.offset)
    ++index;
  TrustPolicy policy = trust->policy();
  policy.limits.expected_chip = chip_by_name(o.chip.c_str())->id;
  host::SlotVerifier verifier;
  const Result<SignedImage> image = verifier.verify(slots.value(), index, policy);
  if (image.is_ok()) return {{"verified", true}, {"reason", "VALID"}};
  const uint32_t floor = user ? (report.uotadata ? report.uotadata->view.secure_version_floor() : 0)
                              : (report.otadata ? report.otadata->view.secure_version_floor() : 0);
  const tools::DeviceFacts facts{floor, static_cast<uint16_t>(policy.limits.expected_chip)};
  return {{"verified", false}, {"reason", "REFUSED: " + tools::describe(image.status(), facts)}};
}

void add_show(CLI::App& group) {
  using Options = ShowOptions;
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand("show",
                                       "Show the partition table, what each app slot holds and what "
                                       "otadata/uotadata select; with --key-digest/--key and/or --ca, verify "
                                       "every app slot as the device would and say why a slot is refused");
  cmd->add_option("flash", o->flash, "flash.bin")->required();
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->add_option("--key-digest", o->key_digests, "verify protected app slots: a trusted key digest (hex)")
      ->allow_extra_args(false);
  cmd->add_option("--key", o->keys, "verify protected app slots: a trusted key (PEM)")
      ->allow_extra_args(false);
  cmd->add_option("--ca", o->ca,
                  "verify user app slots: the user-app CA (PEM or `privota ca new` directory)");
  cmd->add_option("--chip", o->chip, "the device's chip, for the verdicts")->capture_default_str();
  cmd->callback([o] {
    if (!chip_by_name(o->chip.c_str()))
      throw ToolError(fmt::format("unknown chip '{}'; known: {}", o->chip, host::chip_names()));
    host::FileFlash flash = open_flash(o->flash, true);
    const tools::FlashReport report = tools::inspect_flash(flash);
    std::string text = tools::flash_report_text(report);
    nlohmann::json json = tools::flash_report_json(report);
    if (!o->key_digests.empty() || !o->keys.empty() || !o->ca.empty()) {
      std::optional<tools::Trust> protected_trust = trust_for(*o, false);
      std::optional<tools::Trust> user_trust = trust_for(*o, true);
      text += "Verdicts (as the device verifies each slot):\n";
      for (size_t i = 0; i < report.slots.size(); ++i) {
        const tools::SlotReport& slot = report.slots[i];
        const bool user =
            slot.partition.subtype == app_subtype::kUser0 || slot.partition.subtype == app_subtype::kUser1;
        const nlohmann::json verdict =
            slot_verdict(flash, report, slot, *o, user ? user_trust : protected_trust);
        text += fmt::format("  {:<8} {}\n", slot.partition.name, verdict["reason"].get<std::string>());
        json["slots"][i]["verdict"] = verdict;
      }
    }
    print_output(o->json, text, json.dump(2));
  });
}

void add_read(CLI::App& group) {
  struct Options {
    std::string flash, partition, output;
    bool force = false, whole = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "read", "Copy one partition out of a flash file, e.g. a slot to check with `privota image verify`");
  cmd->add_option("flash", o->flash, "flash.bin")->required();
  cmd->add_option("--partition", o->partition, "partition name, e.g. user_1")->required();
  cmd->add_option("-o,--output", o->output, "where to write it")->required();
  cmd->add_flag("--whole", o->whole, "keep the erased sectors at the end of an app partition");
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->flash}};
    tools::check_output(out);
    host::FileFlash flash = open_flash(o->flash, true);
    host::MbedMd5 md5;
    const Result<PartitionTable> table = PartitionTable::read(flash, md5);
    tools::check(table.status(), "partition table at 0x8000");
    const Partition* partition = table->find(o->partition.c_str());
    if (partition == nullptr)
      throw ToolError(fmt::format("no partition named '{}' in the table", o->partition));
    std::vector<uint8_t> bytes(partition->size);
    tools::check(flash.read(partition->offset, {bytes.data(), bytes.size()}), "reading the partition");
    // An app slot ends where its image (and signature sector) ends: the erased sectors after it are not the
    // image's, and `image verify` refuses bytes after a signature sector.
    if (partition->is_app() && !o->whole) {
      while (bytes.size() >= Flash::kSectorSize &&
             std::all_of(bytes.end() - Flash::kSectorSize, bytes.end(), [](uint8_t b) { return b == 0xFF; }))
        bytes.resize(bytes.size() - Flash::kSectorSize);
    }
    tools::write_output(out, bytes);
  });
}

}  // namespace

void add_flash_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "flash", "Device flash files: new, write, show, read; the engine's steps: ota, boot, confirm, reject");
  group->require_subcommand(1);
  add_new(*group);
  add_write(*group);
  add_show(*group);
  add_read(*group);
  add_flash_engine_commands(*group);
}

}  // namespace privota::cli
