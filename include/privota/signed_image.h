// Signed app images: an app image, padded with 0xFF to a 4 KiB boundary, followed by one 4 KiB signature
// sector. The signature covers SHA-256 of the padded image. Two schemes share this layout:
//   - Secure Boot v2 (ESP-IDF, protected app): sector of up to three 0xE7 blocks, keys trusted by digest;
//   - ESP-PrivSep user-app certificate (user app): one 0xB7 sector with a certificate that must chain to
//     the protected app's CA.
// verify_signed_image() checks image, signature and anti-rollback in one pass over the flash.
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/digest.h"
#include "privota/flash.h"
#include "privota/result.h"
#include "privota/signature_verifier.h"

namespace privota {

constexpr uint32_t kSignatureSectorSize = 4096;

// Where the signature sector of an image of `image_size` bytes starts (the padded image's end).
constexpr uint32_t signed_region_size(uint32_t image_size) {
  return (image_size + kSignatureSectorSize - 1) / kSignatureSectorSize * kSignatureSectorSize;
}

// SHA-256 of a Secure Boot v2 public key as it appears in a block: what eFuse (here: the protected app's
// configuration) holds to say "this key is trusted".
struct KeyDigest {
  uint8_t bytes[32] = {};
};

// kNone: a device without Secure Boot (its eFuse not burnt): the image format and SHA-256 are checked, the
// signature sector is not. Only the bootloader of such a device uses it; user apps are always verified.
enum class SignatureScheme : uint8_t { kSecureBootV2, kUserAppCertificate, kNone };

struct TrustPolicy {
  SignatureScheme scheme = SignatureScheme::kSecureBootV2;
  Span<const KeyDigest> trusted_keys;      // kSecureBootV2: up to 3 digests
  CertificateVerifier* user_ca = nullptr;  // kUserAppCertificate: the CA check
  uint32_t min_secure_version = 0;         // anti-rollback floor; lower images are refused
  AppImageLimits limits;                   // chip, size (normally the partition)
};

struct SignedImage {
  AppImageInfo info;
  uint32_t signed_size = 0;  // padded image + signature sector: the bytes the image occupies
  uint8_t signed_digest[32] = {};
  uint8_t block = 0;  // which Secure Boot v2 block verified (0 for the user-app scheme)
};

// Verifies the image at the start of `region`: app image format, signature by `policy`, then anti-rollback.
// `scratch` (at least kSignatureSectorSize bytes) is the read buffer and holds the signature sector, so no
// heap or large stack is needed. The first failure is returned with its own code and reason.
// Built with PRIVOTA_SECURE_BOOT_V2_ONLY (the rv32 bootloader), kUserAppCertificate is refused (unsupported).
Result<SignedImage> verify_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256,
                                        SignatureVerifier& verifier, ByteSpan scratch);

// verify_signed_image() in its two halves, for a caller that runs them apart (an OTA job on a small stack of
// its own hashes, and its firmware's main loop checks the signature: SignatureCheck below).
// hash_signed_image(): the app image format and SHA-256 of the padded image, read through `buffer` (any
// size; the larger, the fewer reads). Sets the image's info, signed_size and signed_digest (in place: a
// SignedImage is ~0.5 KB, which a job's small stack should hold once).
Status hash_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256, ByteSpan buffer,
                         SignedImage& image);
// check_signed_image(): reads the signature sector into `sector` (at least kSignatureSectorSize bytes) and
// checks it against `image.signed_digest` by `policy`, then anti-rollback. Sets `image.block`.
Status check_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256,
                          SignatureVerifier& verifier, ByteSpan sector, SignedImage& image);

// Where the signature half of an image's verification runs. It needs a 4 KiB sector in RAM and the stack
// of the certificate and RSA code, which a firmware already has for verifying its apps at boot: an OTA job
// that runs on a small stack of its own hands the check to its main loop rather than carrying both.
class SignatureCheck {
 public:
  virtual Status check(Flash& region, const TrustPolicy& policy, SignedImage& image) = 0;

 protected:
  ~SignatureCheck() = default;
};

// The check in place: on the caller's stack, in its `sector` buffer.
class InPlaceSignatureCheck final : public SignatureCheck {
 public:
  InPlaceSignatureCheck(Sha256& sha256, SignatureVerifier& verifier, ByteSpan sector)
      : sha256_(sha256), verifier_(verifier), sector_(sector) {}
  Status check(Flash& region, const TrustPolicy& policy, SignedImage& image) override {
    return check_signed_image(region, policy, sha256_, verifier_, sector_, image);
  }

 private:
  Sha256& sha256_;
  SignatureVerifier& verifier_;
  ByteSpan sector_;
};

}  // namespace privota
