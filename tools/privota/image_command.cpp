// privota image build|info: ESP app images around a host payload or from a bare-metal ELF.
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "elf_image_builder.h"
#include "file_io.h"
#include "image_builder.h"
#include "image_report.h"
#include "privota/chip.h"
#include "privota/host/chip_names.h"
#include "privota/host/mbedtls_digest.h"
#include "signature_report.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

void add_build(CLI::App& group) {
  struct Options {
    std::string payload, elf, version, project, chip = "esp32c3", output, time, date;
    uint32_t secure_version = 0;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand("build",
                                       "Wrap a payload (the host executable) in an ESP app image, or turn "
                                       "an ELF's loadable segments into one (--elf), with an app "
                                       "descriptor, checksum and appended SHA-256");
  CLI::Option* payload = cmd->add_option("--payload", o->payload, "the host executable the image carries");
  cmd->add_option("--elf", o->elf,
                  "a bare-metal ELF (e.g. rv32 firmware): its loadable segments become the image's, at "
                  "their load addresses; it needs a 256-byte .rodata_desc section first")
      ->excludes(payload);
  cmd->add_option("--version", o->version, "app version, up to 31 characters (e.g. 1.2.0)")->required();
  cmd->add_option("--secure-version", o->secure_version, "anti-rollback counter (default 0)");
  cmd->add_option("--project", o->project, "project name, up to 31 characters")->required();
  cmd->add_option("--chip", o->chip, "target chip: " + host::chip_names())->capture_default_str();
  cmd->add_option("--time", o->time, "build time for the descriptor (default: SOURCE_DATE_EPOCH or now)");
  cmd->add_option("--date", o->date, "build date for the descriptor (default: SOURCE_DATE_EPOCH or now)");
  cmd->add_option("-o,--output", o->output, "where to write the image")->required();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->payload, o->elf}};
    tools::check_output(out);
    const auto chip = chip_by_name(o->chip.c_str());
    if (!chip) throw ToolError(fmt::format("unknown chip '{}'; known: {}", o->chip, host::chip_names()));
    if (o->payload.empty() == o->elf.empty())
      throw ToolError("give the image's contents: --payload FILE (host executable) or --elf FILE");
    tools::ImageSpec spec;
    spec.version = o->version;
    spec.secure_version = o->secure_version;
    spec.project_name = o->project;
    spec.chip = chip->id;
    spec.time = o->time;
    spec.date = o->date;
    tools::BuiltImage image;
    if (!o->elf.empty()) {
      image = tools::build_elf_app_image(spec, tools::read_binary_file(o->elf));
    } else {
      spec.payload = tools::read_binary_file(o->payload);
      image = tools::build_app_image(spec);
    }
    if (!image.error.empty()) throw ToolError("cannot build the image: " + image.error);
    tools::write_output(out, image.bytes);
  });
}

void add_info(CLI::App& group) {
  struct Options {
    std::string input;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "info",
      "Check an app image and show its header, segments, descriptor and signature (Secure Boot v2 blocks: "
      "scheme and key digest; user-app sector: certificate subject and issuer)");
  cmd->add_option("image", o->input, "app.bin")->required();
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] {
    const std::vector<uint8_t> bytes = tools::read_binary_file(o->input);
    host::MbedSha256 sha;
    // Show images without an appended hash too; the text says so.
    AppImageLimits limits;
    limits.require_hash = false;
    AppImageValidator validator(sha, limits);
    const Result<size_t> used = validator.update({bytes.data(), bytes.size()});
    const Result<AppImageInfo> info = used.is_ok() ? validator.info() : Result<AppImageInfo>(used.status());
    if (!info.is_ok())
      throw ToolError(fmt::format("{}: not a valid app image: {}", o->input, tools::describe(info.status())));
    const size_t trailing = bytes.size() - info->image_size;
    const tools::SignatureReport signature = tools::signature_report(bytes, info->image_size);
    std::string text = tools::image_info_text(*info);
    if (trailing > 0) text += fmt::format("After the image:   {} bytes (padding, signature)\n", trailing);
    text += signature.text;
    nlohmann::json json = tools::image_info_json(*info);
    json["trailing_bytes"] = trailing;
    json["signature"] = signature.json;
    print_output(o->json, text, json.dump(2));
  });
}

}  // namespace

void add_image_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("image", "App images: build, info");
  group->require_subcommand(1);
  add_build(*group);
  add_info(*group);
  add_image_signing_commands(*group);
}

}  // namespace privota::cli
