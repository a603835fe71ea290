// ChipRomVerifier: Secure Boot v2 as the chip's ROM verifies it. Each chip's ROM verifies only its own
// schemes (privota/chip.h: the ESP32-C3 RSA-3072 only, the ESP32-C2 ECDSA P-256 only); a block of another
// scheme is refused as the chip would refuse it, even when its key is trusted. Everything else goes to the
// software verifier underneath. Only the protected app's Secure Boot v2 check uses it: a user app's
// signature is verified by the protected app's software, whatever the chip.
#pragma once

#include "privota/chip.h"
#include "privota/signature_verifier.h"

namespace privota::host {

class ChipRomVerifier final : public SignatureVerifier {
 public:
  // `chip` nullptr: any scheme (a chip the table does not know is refused elsewhere, as wrong_chip).
  ChipRomVerifier(SignatureVerifier& software, const ChipInfo* chip) : software_(software), chip_(chip) {}

  Status verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                               const uint8_t (&digest)[kSha256Bytes], ConstByteSpan signature) override;
  Status verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes], const uint8_t (&y)[kP256Bytes],
                           const uint8_t (&digest)[kSha256Bytes], const uint8_t (&r)[kP256Bytes],
                           const uint8_t (&s)[kP256Bytes]) override;

 private:
  SignatureVerifier& software_;
  const ChipInfo* chip_;
};

}  // namespace privota::host
