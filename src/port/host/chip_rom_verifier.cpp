#include "privota/host/chip_rom_verifier.h"

namespace privota::host {

Status ChipRomVerifier::verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                                              const uint8_t (&digest)[kSha256Bytes],
                                              ConstByteSpan signature) {
  if (chip_ != nullptr && (chip_->secure_boot_v2_schemes & kSbv2Rsa3072) == 0) {
    return Status::error(
        Code::kUnsupported,
        "this chip's Secure Boot v2 verifies ECDSA P-256 only: the RSA-3072 block is refused");
  }
  return software_.verify_rsa_pss_sha256(modulus, exponent, digest, signature);
}

Status ChipRomVerifier::verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes], const uint8_t (&y)[kP256Bytes],
                                          const uint8_t (&digest)[kSha256Bytes],
                                          const uint8_t (&r)[kP256Bytes], const uint8_t (&s)[kP256Bytes]) {
  if (chip_ != nullptr && (chip_->secure_boot_v2_schemes & kSbv2EcdsaP256) == 0) {
    return Status::error(
        Code::kUnsupported,
        "this chip's Secure Boot v2 verifies RSA-3072 only: the ECDSA P-256 block is refused");
  }
  return software_.verify_ecdsa_p256(x, y, digest, r, s);
}

}  // namespace privota::host
