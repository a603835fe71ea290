#include "trust.h"

#include "privota/host/slot_verifier.h"

namespace privota::protected_app {

Trust::Trust(const host::DeviceConfig& config)
    : chip_(config.chip), digests_(config.secure_boot.key_digests) {
  Result<host::MbedCertificateVerifier> ca = host::MbedCertificateVerifier::from_pem(config.user_app.ca_pem);
  if (!ca.is_ok())
    throw host::ConfigError(std::string("user_app.ca_cert does not load: ") + ca.status().reason());
  user_ca_ = std::make_unique<host::MbedCertificateVerifier>(std::move(ca.value()));
}

TrustPolicy Trust::policy(AppLevel level) {
  TrustPolicy policy;
  policy.limits.expected_chip = chip_;
  if (level == AppLevel::kUser) {
    policy.scheme = SignatureScheme::kUserAppCertificate;
    policy.user_ca = user_ca_.get();
  } else {
    policy.scheme = SignatureScheme::kSecureBootV2;
    policy.trusted_keys = {digests_.data(), digests_.size()};
  }
  return policy;
}

Result<SignedImage> verify_slot(AppSlots& slots, uint32_t slot, TrustPolicy policy) {
  host::SlotVerifier verifier;
  return verifier.verify(slots, slot, policy);
}

}  // namespace privota::protected_app
