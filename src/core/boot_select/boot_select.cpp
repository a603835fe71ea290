#include "privota/boot_select.h"

#include "privota/legacy_uotadata.h"

namespace privota {
namespace {

Result<SignedImage> verify_slot(BootContext& c, uint32_t slot, uint32_t floor) {
  TrustPolicy policy = c.policy;
  policy.min_secure_version = floor;
  policy.limits.max_image_size = c.slots->slots[slot].size();
  return verify_signed_image(c.slots->slots[slot], policy, *c.sha256, *c.verifier, c.scratch);
}

// Another slot that verifies, searched from the one after `failed`; selected as VALID.
Result<BootDecision> roll_back(BootContext& c, uint32_t failed, Status reason, uint32_t floor) {
  const uint32_t n = c.slots->slot_count;
  for (uint32_t step = 1; step < n; ++step) {
    const uint32_t slot = (failed + step) % n;
    Result<SignedImage> image = verify_slot(c, slot, floor);
    if (!image.is_ok()) continue;
    PRIVOTA_TRY(write_ota_selection(c.slots->select, n, slot, OtaState::kValid));
    BootDecision decision;
    decision.outcome = BootOutcome::kRolledBack;
    decision.slot = slot;
    decision.image = image.value();
    decision.rejected_slot = static_cast<int>(failed);
    decision.rejected_reason = reason;
    return decision;
  }
  return Status::error(Code::kNotFound, "no bootable app: no slot holds an image that verifies");
}

// Nothing selected: boot the first slot that verifies, as ESP-IDF boots ota_0 with empty otadata.
Result<BootDecision> fall_back(BootContext& c, uint32_t floor) {
  for (uint32_t slot = 0; slot < c.slots->slot_count; ++slot) {
    Result<SignedImage> image = verify_slot(c, slot, floor);
    if (!image.is_ok()) continue;
    BootDecision decision;
    decision.outcome = BootOutcome::kFallback;
    decision.slot = slot;
    decision.image = image.value();
    return decision;
  }
  return Status::error(Code::kNotFound, "no bootable app: nothing selected and no slot verifies");
}

}  // namespace

const char* boot_outcome_name(BootOutcome outcome) {
  switch (outcome) {
    case BootOutcome::kNormal:
      return "normal";
    case BootOutcome::kTrial:
      return "trial";
    case BootOutcome::kRolledBack:
      return "rolled_back";
    case BootOutcome::kFallback:
      return "fallback";
  }
  return "unknown";
}

Result<BootDecision> select_boot_slot(BootContext& c) {
  if (c.slots == nullptr || c.sha256 == nullptr || c.verifier == nullptr || c.slots->slot_count < 2) {
    return Status::error(Code::kInvalidArgument, "boot context is incomplete");
  }
  // A device updated from ESP-PrivSep firmware may still hold its uotadata format; adopt it once.
  const Result<bool> migrated = migrate_legacy_uotadata(*c.slots);
  if (!migrated.is_ok() && migrated.status().code() != Code::kBadChecksum) return migrated.status();
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(c.slots->select));
  const uint32_t floor = view.secure_version_floor();
  if (view.active < 0) return fall_back(c, floor);

  const uint32_t slot = static_cast<uint32_t>(view.active_slot(c.slots->slot_count));
  const OtaState state = view.active_state();
  if (state == OtaState::kPendingVerify) {
    return roll_back(c, slot,
                     Status::error(Code::kBadState, "trial app did not confirm itself before reboot"), floor);
  }
  if (state == OtaState::kInvalid || state == OtaState::kAborted) {
    return roll_back(c, slot, Status::error(Code::kBadState, "app was marked invalid"), floor);
  }
  Result<SignedImage> image = verify_slot(c, slot, floor);
  if (!image.is_ok()) return roll_back(c, slot, image.status(), floor);

  BootDecision decision;
  decision.slot = slot;
  decision.image = image.value();
  if (state == OtaState::kNew) {
    // The trial starts now: if this boot ends without mark_app_valid(), the next one rolls back.
    PRIVOTA_TRY(write_ota_selection(c.slots->select, c.slots->slot_count, slot, OtaState::kPendingVerify));
    decision.outcome = BootOutcome::kTrial;
  }
  return decision;
}

bool app_is_confirmed(const OtaDataView& view, uint32_t slot_count, uint32_t running_slot,
                      uint32_t secure_version) {
  const bool selected =
      view.active >= 0 && static_cast<uint32_t>(view.active_slot(slot_count)) == running_slot;
  const OtaState state = view.active_state();
  return selected && (state == OtaState::kValid || state == OtaState::kUndefined) &&
         view.secure_version_floor() >= secure_version;
}

Status mark_app_valid(AppSlots& slots, uint32_t running_slot, uint32_t secure_version) {
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(slots.select));
  if (app_is_confirmed(view, slots.slot_count, running_slot, secure_version)) return Status::ok();
  const bool selected =
      view.active >= 0 && static_cast<uint32_t>(view.active_slot(slots.slot_count)) == running_slot;
  const OtaState state = view.active_state();
  if (selected && (state == OtaState::kInvalid || state == OtaState::kAborted)) {
    return Status::error(Code::kBadState, "app was already marked invalid; it cannot become valid");
  }
  return write_ota_selection(slots.select, slots.slot_count, running_slot, OtaState::kValid, secure_version);
}

Status mark_app_invalid(AppSlots& slots, uint32_t running_slot) {
  return write_ota_selection(slots.select, slots.slot_count, running_slot, OtaState::kInvalid);
}

}  // namespace privota
