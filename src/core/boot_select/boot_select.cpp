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

bool was_rejected(const OtaDataView& view, uint32_t slot) {
  return slot < 8 && (view.budget().rejected_slots & (1u << slot)) != 0;
}

// Another slot that verifies and was not given up on before, searched from the one after `failed`; selected
// as VALID, `failed` marked rejected. `refuse`: the failed image is the app's fault (marked invalid), so a
// job must never install it again: its identity is kept in the budget record.
Result<BootDecision> roll_back(BootContext& c, const OtaDataView& view, uint32_t failed, Status reason,
                               bool refuse) {
  const uint32_t n = c.slots->slot_count;
  const uint32_t floor = view.secure_version_floor();
  SelectionChange change;
  change.state = OtaState::kValid;
  change.reject_slot = static_cast<int>(failed);
  Result<SignedImage> bad = Status::error(Code::kNotFound, "not refused");
  if (refuse) bad = verify_slot(c, failed, 0);
  if (bad.is_ok()) {
    change.rejected_version = bad->info.desc.version;
    change.rejected_elf_sha256 = bad->info.desc.app_elf_sha256;
  }
  for (uint32_t step = 1; step < n; ++step) {
    const uint32_t slot = (failed + step) % n;
    if (was_rejected(view, slot)) continue;  // it failed before: booting it again is a loop
    Result<SignedImage> image = verify_slot(c, slot, floor);
    if (!image.is_ok()) continue;
    change.slot = slot;
    PRIVOTA_TRY(write_ota_selection(c.slots->select, n, change));
    BootDecision decision;
    decision.outcome = BootOutcome::kRolledBack;
    decision.slot = slot;
    decision.image = image.value();
    decision.rejected_slot = static_cast<int>(failed);
    decision.rejected_reason = reason;
    return decision;
  }
  return Status::error(Code::kNotFound,
                       "no bootable app: no other slot holds an image that verifies and was not given up on");
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
  const ExclusiveFlash hold(c.slots->select);  // the decision and its writes are one step
  // A device updated from ESP-PrivSep firmware may still hold its uotadata format; adopt it once.
  const Result<bool> migrated = migrate_legacy_uotadata(*c.slots);
  if (!migrated.is_ok() && migrated.status().code() != Code::kBadChecksum) return migrated.status();
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(c.slots->select));
  const uint32_t floor = view.secure_version_floor();
  if (view.active < 0) return fall_back(c, floor);

  const uint32_t slot = static_cast<uint32_t>(view.active_slot(c.slots->slot_count));
  const OtaState state = view.active_state();
  // The boot that wrote PENDING_VERIFY was the trial's first; each mark is one more.
  const uint32_t trial_boots_used = 1 + view.trial_marks_used();
  if (state == OtaState::kPendingVerify && trial_boots_used >= c.trial_boots) {
    return roll_back(c, view, slot,
                     Status::error(Code::kBadState, "trial app did not confirm itself within its trial boots",
                                   trial_boots_used),
                     false);
  }
  if (state == OtaState::kInvalid || state == OtaState::kAborted) {
    return roll_back(c, view, slot, Status::error(Code::kBadState, "app was marked invalid"), true);
  }
  Result<SignedImage> image = verify_slot(c, slot, floor);
  if (!image.is_ok()) return roll_back(c, view, slot, image.status(), false);

  BootDecision decision;
  decision.slot = slot;
  decision.image = image.value();
  if (state == OtaState::kNew) {
    // The trial starts now: this boot is its first; a boot that finds it still PENDING_VERIFY uses another.
    PRIVOTA_TRY(write_ota_selection(c.slots->select, c.slots->slot_count, slot, OtaState::kPendingVerify));
    decision.outcome = BootOutcome::kTrial;
    decision.trial_boot = 1;
  } else if (state == OtaState::kPendingVerify) {
    // The last trial boot never reported (a power cut is no evidence against the app): one more attempt,
    // counted before the app runs so that a cut from here on still uses it up.
    PRIVOTA_TRY(add_trial_mark(c.slots->select));
    decision.outcome = BootOutcome::kTrial;
    decision.trial_boot = trial_boots_used + 1;
  }
  return decision;
}

bool app_is_confirmed(const OtaDataView& view, uint32_t slot_count, uint32_t running_slot,
                      uint32_t secure_version) {
  const bool selected =
      view.active >= 0 && static_cast<uint32_t>(view.active_slot(slot_count)) == running_slot;
  const OtaState state = view.active_state();
  // An app already valid has nothing to confirm: asking again must not end a failure streak (a valid app
  // that confirms on every boot and then crashes would loop for ever). A slot given up on is trusted again.
  return selected && (state == OtaState::kValid || state == OtaState::kUndefined) &&
         view.secure_version_floor() >= secure_version && !was_rejected(view, running_slot);
}

Status mark_app_valid(AppSlots& slots, uint32_t running_slot, uint32_t secure_version) {
  // What is read decides what is written: no other writer in between (an OTA job activating).
  const ExclusiveFlash hold(slots.select);
  PRIVOTA_ASSIGN_OR_RETURN(const OtaDataView view, read_ota_data(slots.select));
  if (app_is_confirmed(view, slots.slot_count, running_slot, secure_version)) return Status::ok();
  const bool selected =
      view.active >= 0 && static_cast<uint32_t>(view.active_slot(slots.slot_count)) == running_slot;
  const OtaState state = view.active_state();
  if (selected && (state == OtaState::kInvalid || state == OtaState::kAborted)) {
    return Status::error(Code::kBadState, "app was already marked invalid; it cannot become valid");
  }
  // A job selected a new image since the caller looked: the next boot tries it, and selecting the running
  // app again would undo that. Nothing is left to confirm.
  if (!selected && view.active >= 0 && state == OtaState::kNew) return Status::ok();
  SelectionChange change;
  change.slot = running_slot;
  change.state = OtaState::kValid;
  change.raise_floor_to = secure_version;
  // Only a trial that confirms ends the failure streak; a valid app that writes to raise the floor does not.
  change.reset_failed_boots = !selected || state == OtaState::kPendingVerify;
  change.accept_slot = true;
  return write_ota_selection(slots.select, slots.slot_count, change);
}

Status mark_app_invalid(AppSlots& slots, uint32_t running_slot) {
  return write_ota_selection(slots.select, slots.slot_count, running_slot, OtaState::kInvalid);
}

}  // namespace privota
