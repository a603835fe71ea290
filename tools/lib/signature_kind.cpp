#include "signature_kind.h"

#include "privota/app_image.h"
#include "privota/flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/secure_boot_v2.h"
#include "privota/user_app_signature.h"

namespace privota::tools {

const char* signature_kind_name(SignatureKind kind) {
  switch (kind) {
    case SignatureKind::kNotAnImage:
      return "not an app image";
    case SignatureKind::kUnsigned:
      return "unsigned";
    case SignatureKind::kSecureBootV2:
      return "Secure Boot v2";
    case SignatureKind::kUserAppCertificate:
      return "user-app certificate";
    case SignatureKind::kUnknownSector:
      return "unknown signature";
  }
  return "?";
}

SignatureKind signature_kind(const std::vector<uint8_t>& bytes, uint32_t image_size) {
  const size_t sector =
      (static_cast<size_t>(image_size) + Flash::kSectorSize - 1) / Flash::kSectorSize * Flash::kSectorSize;
  if (bytes.size() <= sector) return SignatureKind::kUnsigned;
  if (bytes[sector] == sbv2::kMagic) return SignatureKind::kSecureBootV2;
  if (bytes[sector] == user_sig::kMagic) return SignatureKind::kUserAppCertificate;
  return SignatureKind::kUnknownSector;
}

SignatureKind signature_kind(const std::vector<uint8_t>& bytes) {
  host::MbedSha256 sha;
  AppImageLimits limits;
  limits.require_hash = false;
  AppImageValidator validator(sha, limits);
  const Result<size_t> used = validator.update({bytes.data(), bytes.size()});
  const Result<AppImageInfo> info = used.is_ok() ? validator.info() : Result<AppImageInfo>(used.status());
  if (!info.is_ok()) return SignatureKind::kNotAnImage;
  return signature_kind(bytes, info->image_size);
}

}  // namespace privota::tools
