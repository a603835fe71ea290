#include "privota/host/slot_verifier.h"

#include "privota/chip.h"
#include "privota/host/chip_rom_verifier.h"
#include "privota/ota_data.h"

namespace privota::host {
namespace {

// Secure Boot v2 is the chip's ROM: only the schemes the device's chip verifies count (chip_rom_verifier.h).
const ChipInfo* rom_chip(const TrustPolicy& policy) {
  if (policy.scheme != SignatureScheme::kSecureBootV2) return nullptr;
  return chip_by_id(static_cast<uint16_t>(policy.limits.expected_chip));
}

}  // namespace

Result<SignedImage> SlotVerifier::verify(AppSlots& slots, uint32_t slot, TrustPolicy policy) {
  if (slot >= slots.slot_count) return Status::error(Code::kInvalidArgument, "no such app slot", slot);
  const Result<OtaDataView> view = read_ota_data(slots.select);
  policy.min_secure_version = view.is_ok() ? view->secure_version_floor() : 0;
  policy.limits.max_image_size = slots.slots[slot].size();
  ChipRomVerifier rom(verifier_, rom_chip(policy));
  return verify_signed_image(slots.slots[slot], policy, sha_, rom, scratch());
}

Result<BootDecision> SlotVerifier::select(AppSlots& slots, const TrustPolicy& policy) {
  ChipRomVerifier rom(verifier_, rom_chip(policy));
  BootContext context;
  context.slots = &slots;
  context.policy = policy;
  context.sha256 = &sha_;
  context.verifier = &rom;
  context.scratch = scratch();
  return select_boot_slot(context);
}

}  // namespace privota::host
