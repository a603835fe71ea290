// What the protected app trusts, built from the device configuration: the user-app CA (user level) and the
// Secure Boot v2 key digests (its own level, for its own updates), each as a TrustPolicy for the core.
#pragma once

#include <memory>
#include <vector>

#include "privota/app_slots.h"
#include "privota/host/device_config.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/signed_image.h"

namespace privota::protected_app {

class Trust {
 public:
  // Throws host::ConfigError when the CA does not load.
  explicit Trust(const host::DeviceConfig& config);

  // The policy for one level; min_secure_version is left 0 (the caller takes the floor from flash).
  TrustPolicy policy(AppLevel level);

 private:
  ChipId chip_;
  std::vector<KeyDigest> digests_;
  std::unique_ptr<host::MbedCertificateVerifier> user_ca_;
};

// Verifies the image in `slot` of a level by `policy`, against the level's anti-rollback floor.
Result<SignedImage> verify_slot(AppSlots& slots, uint32_t slot, TrustPolicy policy);

}  // namespace privota::protected_app
