#include "privota/host/slot_verdicts.h"

#include <algorithm>

#include "privota/boot_select.h"
#include "privota/host/chip_names.h"
#include "privota/host/refusal_text.h"
#include "privota/host/selection_record.h"
#include "privota/host/slot_verifier.h"
#include "privota/image_head.h"
#include "privota/ota_data.h"

namespace privota::host {
namespace {

// What the slot's first bytes say it holds, before any check of hash or signature.
std::string found_in(Flash& slot) {
  uint8_t head[kImageHeadSize];
  if (!slot.read(0, {head, sizeof head}).is_ok()) return "unreadable";
  if (std::all_of(head, head + sizeof head, [](uint8_t b) { return b == 0xFF; })) return "erased";
  const Result<ImageHead> parsed = parse_image_head({head, sizeof head});
  if (!parsed.is_ok()) return std::string("no app image (") + parsed.status().reason() + ")";
  return "image " + std::string(parsed->version) + " (secure_version " +
         std::to_string(parsed->secure_version) + ", " + chip_name(parsed->chip_id) + ")";
}

// The select partition's own refusal of a slot, as select_boot_slot() applies it (boot_select.h's table).
Status refused_by_state(const OtaDataView& view, uint32_t slot_count, uint32_t slot) {
  if (view.active < 0) return Status::ok();  // nothing selected: the first slot that verifies boots
  const bool selected = static_cast<uint32_t>(view.active_slot(slot_count)) == slot;
  const OtaState state = view.active_state();
  if (selected && (state == OtaState::kInvalid || state == OtaState::kAborted)) {
    return Status::error(Code::kBadState, "its select entry is INVALID: it was marked invalid while it ran");
  }
  if (selected && state == OtaState::kPendingVerify && 1 + view.trial_marks_used() >= kDefaultTrialBoots) {
    return Status::error(Code::kBadState, "on trial, it did not confirm itself within its trial boots");
  }
  if (!selected && slot < 8 && (view.budget().rejected_slots & (1u << slot)) != 0) {
    return Status::error(Code::kBadState,
                         "given up on before (a failed trial or marked invalid): not booted again");
  }
  return Status::ok();
}

}  // namespace

std::vector<SlotVerdict> slot_verdicts(AppLevel level, AppSlots& slots, const TrustPolicy& policy) {
  const Result<OtaDataView> view = read_ota_data(slots.select);
  DeviceFacts facts;
  facts.floor = view.is_ok() ? view->secure_version_floor() : 0;
  if (policy.limits.expected_chip != ChipId::kAny)
    facts.chip = static_cast<uint16_t>(policy.limits.expected_chip);
  SlotVerifier verifier;
  std::vector<SlotVerdict> verdicts;
  for (uint32_t slot = 0; slot < slots.slot_count; ++slot) {
    SlotVerdict v;
    v.slot = slot;
    v.partition = slot_name(level, slot);
    v.found = found_in(slots.slots[slot]);
    const Result<SignedImage> image = verifier.verify(slots, slot, policy);
    v.refusal = view.is_ok() ? refused_by_state(view.value(), slots.slot_count, slot) : Status::ok();
    if (v.refusal.is_ok() && !image.is_ok()) v.refusal = image.status();
    v.bootable = v.refusal.is_ok();
    v.reason = v.bootable            ? "verifies"
               : v.found == "erased" ? "no image"
                                     : describe_refusal(v.refusal, facts);
    verdicts.push_back(std::move(v));
  }
  return verdicts;
}

std::string verdict_text(const SlotVerdict& v) {
  if (v.found == "erased") return v.partition + " is erased: no image";
  return v.partition + " holds " + v.found + ": " + (v.bootable ? "verifies" : "refused: " + v.reason);
}

nlohmann::json verdict_json(const SlotVerdict& v) {
  return {{"slot", v.slot},     {"partition", v.partition},
          {"found", v.found},   {"bootable", v.bootable},
          {"reason", v.reason}, {"error", v.bootable ? "" : code_name(v.refusal.code())}};
}

NoBootRecord no_boot_record(AppLevel level, AppSlots& slots, const TrustPolicy& policy,
                            const Status& decision) {
  const char* what = level == AppLevel::kProtected ? "protected app" : "user app";
  NoBootRecord record;
  record.fields = {{"error", code_name(decision.code())}, {"slots", nlohmann::json::array()}};
  std::string why;
  for (const SlotVerdict& v : slot_verdicts(level, slots, policy)) {
    record.slots.push_back({std::string(what) + " slot " + verdict_text(v), verdict_json(v)});
    record.fields["slots"].push_back(verdict_json(v));
    why += (why.empty() ? "" : "; ") + verdict_text(v);
  }
  record.message =
      std::string(level == AppLevel::kProtected ? "no protected app to boot: " : "no user app to run: ") +
      why;
  return record;
}

}  // namespace privota::host
