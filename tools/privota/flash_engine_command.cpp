// privota flash ota|boot|confirm|reject: the update engine's steps run on a flash file, the way the device
// runs them: an OTA into the passive slot, the power-on boot decision, and the running app confirming or
// rejecting itself. Lets a flash file be driven through every flow and inspected with `flash show`.
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "file_io.h"
#include "privota/boot_select.h"
#include "privota/chip.h"
#include "privota/host/chip_names.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/slot_verdicts.h"
#include "privota/host/slot_verifier.h"
#include "privota/image_head.h"
#include "privota/ota_writer.h"
#include "tool_error.h"
#include "trust_options.h"

namespace privota::cli {
namespace {

using tools::ToolError;

struct EngineOptions {
  std::string flash, level = "user", image, chip = "esp32c3";
  tools::TrustOptions trust;
  bool json = false;

  // What the device trusts and what it is: images for another chip are refused like unsigned ones.
  // The device's floor and chip, so a refusal's numbers are said in words.
  static tools::DeviceFacts facts(const TrustPolicy& p) {
    return {p.min_secure_version, static_cast<uint16_t>(p.limits.expected_chip)};
  }

  TrustPolicy policy(tools::Trust& trust) const {
    TrustPolicy p = trust.policy();
    const auto info = chip_by_name(chip.c_str());
    if (!info) throw ToolError(fmt::format("unknown chip '{}'; known: {}", chip, host::chip_names()));
    p.limits.expected_chip = info->id;
    return p;
  }
};

// The flash file, its table and the slots of one level.
struct Target {
  host::FileFlash flash;
  PartitionTable table;
  AppSlots slots;
  AppLevel level;

  explicit Target(const EngineOptions& o)
      : level(o.level == "protected" ? AppLevel::kProtected : AppLevel::kUser) {
    Result<host::FileFlash> opened = host::FileFlash::open(o.flash);
    tools::check(opened.status(), fmt::format("opening flash file '{}'", o.flash));
    flash = std::move(opened.value());
    host::MbedMd5 md5;
    const Result<PartitionTable> read = PartitionTable::read(flash, md5);
    tools::check(read.status(), "partition table at 0x8000");
    table = read.value();
    const Result<AppSlots> found = AppSlots::from_table(flash, table, level);
    tools::check(found.status(), "partition table");
    slots = found.value();
  }

  std::string slot_name(uint32_t slot) const {
    const uint32_t offset = slots.slots[slot].offset();
    for (size_t i = 0; i < table.count(); ++i) {
      if (table[i].offset == offset) return table[i].name;
    }
    return fmt::format("slot {}", slot);
  }

  OtaDataView view() {
    const Result<OtaDataView> v = read_ota_data(slots.select);
    tools::check(v.status(), "reading the select partition");
    return v.value();
  }

  // The slot the device runs: the selected one, or the first (as a device with empty otadata boots).
  uint32_t running_slot() {
    const int active = view().active_slot(slots.slot_count);
    return active < 0 ? 0 : static_cast<uint32_t>(active);
  }
};

CLI::App* add_engine_command(CLI::App& group, const char* name, const char* help,
                             std::shared_ptr<EngineOptions> o, bool trust) {
  CLI::App* cmd = group.add_subcommand(name, help);
  cmd->add_option("flash", o->flash, "flash.bin")->required();
  cmd->add_option("--level", o->level, "user (uotadata, user_0/1) or protected (otadata, ota_0/1)")
      ->check(CLI::IsMember({"user", "protected"}))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print JSON (a failure too: {\"ok\": false, \"error\": ...})");
  if (trust) {
    tools::add_trust_options(*cmd, o->trust);
    cmd->add_option("--chip", o->chip, "the device's chip; images for another are refused")
        ->capture_default_str();
  }
  return cmd;
}

// The descriptor of the image in `slot` when it verifies under `policy`.
std::optional<AppDescriptor> verified_descriptor(Target& t, uint32_t slot, const TrustPolicy& policy) {
  host::SlotVerifier v;
  const Result<SignedImage> image =
      verify_signed_image(t.slots.slots[slot], policy, v.sha256(), v.verifier(), v.scratch());
  if (!image.is_ok()) return std::nullopt;
  return image->info.desc;
}

// The device's early refusal (OtaJob, before anything is erased), with the same code: another chip, below
// the anti-rollback floor, not newer than the running app, the very image this level just rolled back.
Status check_like_the_device(Target& t, uint32_t running, const TrustPolicy& policy,
                             const std::vector<uint8_t>& image) {
  const Result<ImageHead> head = parse_image_head({image.data(), image.size()});
  if (!head.is_ok()) return head.status();
  TrustPolicy any_floor = policy;
  any_floor.min_secure_version = 0;  // the running app is judged as it was installed
  const std::optional<AppDescriptor> current = verified_descriptor(t, running, any_floor);
  std::optional<AppDescriptor> rejected;
  const int rolled_back = t.view().rolled_back_slot(t.slots.slot_count, running);
  if (rolled_back >= 0) rejected = verified_descriptor(t, static_cast<uint32_t>(rolled_back), policy);
  return check_image_head(*head, policy, current ? &*current : nullptr, rejected ? &*rejected : nullptr);
}

void ota(const EngineOptions& o) {
  Target t(o);
  tools::Trust trust(o.trust);
  TrustPolicy policy = o.policy(trust);
  policy.min_secure_version = t.view().secure_version_floor();
  const std::vector<uint8_t> image = tools::read_binary_file(o.image);
  const uint32_t running = t.running_slot();
  const Status early = check_like_the_device(t, running, policy, image);
  if (!early.is_ok()) {
    throw ToolError(fmt::format("update refused, {} keeps running: {}", t.slot_name(running),
                                tools::describe(early, EngineOptions::facts(policy))));
  }
  OtaWriter writer(t.slots, running);
  // As a download would: the size is announced, the bytes arrive in 4 KiB pieces.
  tools::check(writer.begin(static_cast<uint32_t>(image.size())), "starting the update");
  for (size_t at = 0; at < image.size(); at += 4096) {
    tools::check(writer.write({image.data() + at, std::min<size_t>(4096, image.size() - at)}),
                 "writing the update");
  }
  host::SlotVerifier verifier;
  const Result<SignedImage> verified =
      writer.finish(policy, verifier.sha256(), verifier.verifier(), verifier.scratch());
  if (!verified.is_ok()) {
    throw ToolError(fmt::format("update refused, {} keeps running: {}", t.slot_name(running),
                                tools::describe(verified.status(), EngineOptions::facts(policy))));
  }
  tools::check(writer.activate(), "selecting the new image");
  const nlohmann::json json = {{"ok", true},
                               {"level", o.level},
                               {"slot", t.slot_name(writer.passive_slot())},
                               {"project_name", verified->info.desc.project_name},
                               {"version", verified->info.desc.version},
                               {"state", "new"}};
  print_output(o.json,
               fmt::format("{}: wrote {} {} into {}, selected as NEW (boots on trial next)\n", o.level,
                           verified->info.desc.project_name, verified->info.desc.version,
                           t.slot_name(writer.passive_slot())),
               json.dump(2));
}

void boot(const EngineOptions& o) {
  Target t(o);
  tools::Trust trust(o.trust);
  host::SlotVerifier verifier;
  const TrustPolicy policy = o.policy(trust);
  const Result<BootDecision> decision = verifier.select(t.slots, policy);
  if (!decision.is_ok()) {
    // As the device says it: every slot, what it holds and why it was refused, on the one error line.
    const host::NoBootRecord why = host::no_boot_record(t.level, t.slots, policy, decision.status());
    throw ToolError(fmt::format("{}: {}", o.level, why.message));
  }
  const BootDecision& d = decision.value();
  std::string line =
      fmt::format("{}: boot {} ({} {}): {}", o.level, t.slot_name(d.slot), d.image.info.desc.project_name,
                  d.image.info.desc.version, boot_outcome_name(d.outcome));
  if (d.rejected_slot >= 0) {
    line += fmt::format(" (gave up on {}: {})", t.slot_name(static_cast<uint32_t>(d.rejected_slot)),
                        d.rejected_reason.reason());
  }
  nlohmann::json json = {{"ok", true},
                         {"level", o.level},
                         {"slot", t.slot_name(d.slot)},
                         {"project_name", d.image.info.desc.project_name},
                         {"version", d.image.info.desc.version},
                         {"outcome", boot_outcome_name(d.outcome)}};
  if (d.rejected_slot >= 0) {
    json["gave_up_on"] = {{"slot", t.slot_name(static_cast<uint32_t>(d.rejected_slot))},
                          {"reason", d.rejected_reason.reason()}};
  }
  print_output(o.json, line + "\n", json.dump(2));
}

void confirm(const EngineOptions& o) {
  Target t(o);
  tools::Trust trust(o.trust);
  host::SlotVerifier verifier;
  const uint32_t running = t.running_slot();
  TrustPolicy policy = o.policy(trust);
  policy.min_secure_version = t.view().secure_version_floor();  // as verify() sets it, for the words
  const Result<SignedImage> image = verifier.verify(t.slots, running, policy);
  if (!image.is_ok()) {
    throw ToolError(fmt::format("{} does not verify, refusing to mark it valid: {}", t.slot_name(running),
                                tools::describe(image.status(), EngineOptions::facts(policy))));
  }
  tools::check(mark_app_valid(t.slots, running, image->info.desc.secure_version), "marking the app valid");
  const uint32_t floor = t.view().secure_version_floor();
  const nlohmann::json json = {
      {"ok", true}, {"level", o.level}, {"slot", t.slot_name(running)}, {"state", "valid"}, {"floor", floor}};
  print_output(o.json,
               fmt::format("{}: {} ({} {}) is VALID; anti-rollback floor {}\n", o.level, t.slot_name(running),
                           image->info.desc.project_name, image->info.desc.version, floor),
               json.dump(2));
}

void reject(const EngineOptions& o) {
  Target t(o);
  const uint32_t running = t.running_slot();
  tools::check(mark_app_invalid(t.slots, running), "marking the app invalid");
  const nlohmann::json json = {
      {"ok", true}, {"level", o.level}, {"slot", t.slot_name(running)}, {"state", "invalid"}};
  print_output(o.json,
               fmt::format("{}: {} is INVALID; the next boot rolls back\n", o.level, t.slot_name(running)),
               json.dump(2));
}

}  // namespace

void add_flash_engine_commands(CLI::App& group) {
  auto o = std::make_shared<EngineOptions>();
  CLI::App* cmd =
      add_engine_command(group, "ota",
                         "Update one level like an OTA: write a signed image into the passive slot, "
                         "verify it there, select it as NEW",
                         o, true);
  cmd->add_option("image", o->image, "the signed image")->required();
  cmd->callback([o] { ota(*o); });

  auto b = std::make_shared<EngineOptions>();
  add_engine_command(group, "boot",
                     "Power on one level: decide what boots (trial of a NEW app, rollback of an unconfirmed "
                     "or rejected one) and record it, as the bootloader / protected app does",
                     b, true)
      ->callback([b] { boot(*b); });

  auto c = std::make_shared<EngineOptions>();
  add_engine_command(group, "confirm",
                     "The running app of one level marks itself valid; the anti-rollback floor rises to its "
                     "secure_version",
                     c, true)
      ->callback([c] { confirm(*c); });

  auto r = std::make_shared<EngineOptions>();
  add_engine_command(group, "reject",
                     "The running app of one level marks itself invalid; the next boot rolls back", r, false)
      ->callback([r] { reject(*r); });
}

}  // namespace privota::cli
