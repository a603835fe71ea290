#include "privota/host/slot_verifier.h"

#include "privota/ota_data.h"

namespace privota::host {

Result<SignedImage> SlotVerifier::verify(AppSlots& slots, uint32_t slot, TrustPolicy policy) {
  if (slot >= slots.slot_count) return Status::error(Code::kInvalidArgument, "no such app slot", slot);
  const Result<OtaDataView> view = read_ota_data(slots.select);
  policy.min_secure_version = view.is_ok() ? view->secure_version_floor() : 0;
  policy.limits.max_image_size = slots.slots[slot].size();
  return verify_signed_image(slots.slots[slot], policy, sha_, verifier_, scratch());
}

Result<BootDecision> SlotVerifier::select(AppSlots& slots, const TrustPolicy& policy) {
  BootContext context;
  context.slots = &slots;
  context.policy = policy;
  context.sha256 = &sha_;
  context.verifier = &verifier_;
  context.scratch = scratch();
  return select_boot_slot(context);
}

}  // namespace privota::host
