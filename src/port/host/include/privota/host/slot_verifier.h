// SlotVerifier: the one way this port verifies the app in a slot and decides which slot boots — for the
// bootloader (protected app), the protected app (user app and its own updates) and the CLI's flash commands.
// It owns what verification needs here (mbedTLS SHA-256 and signature verification, the signature-sector
// scratch buffer), so no caller assembles them by hand, and every slot is checked against its level's
// anti-rollback floor and within its partition.
#pragma once

#include <cstdint>
#include <vector>

#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/signed_image.h"

namespace privota::host {

class SlotVerifier {
 public:
  SlotVerifier() : scratch_(kSignatureSectorSize) {}
  SlotVerifier(const SlotVerifier&) = delete;
  SlotVerifier& operator=(const SlotVerifier&) = delete;

  // The image in `slot` of a level, verified by `policy` (chip, scheme, trust) with min_secure_version set
  // to the level's floor (from its select partition; 0 when that does not read) and the image limited to
  // the slot's size.
  Result<SignedImage> verify(AppSlots& slots, uint32_t slot, TrustPolicy policy);
  // What boots in this level, with the trial and rollback bookkeeping it writes (select_boot_slot()).
  Result<BootDecision> select(AppSlots& slots, const TrustPolicy& policy);

  // The parts, for the core's other verifying steps (OtaWriter::finish(), OtaJobContext).
  Sha256& sha256() { return sha_; }
  SignatureVerifier& verifier() { return verifier_; }
  ByteSpan scratch() { return {scratch_.data(), scratch_.size()}; }

 private:
  MbedSha256 sha_;
  MbedSignatureVerifier verifier_;
  std::vector<uint8_t> scratch_;
};

}  // namespace privota::host
