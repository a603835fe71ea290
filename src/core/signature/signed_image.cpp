#include "privota/signed_image.h"

#include "privota/secure_boot_v2.h"
#include "privota/user_app_signature.h"

namespace privota {
namespace {

uint32_t min_u32(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}

// Streams the region from 0 through the image validator and on through the padding up to the 4 KiB
// boundary, so one SHA-256 pass gives both the image hash and the signed digest.
Status hash_image_and_padding(Flash& region, AppImageValidator& validator, Sha256& sha256, ByteSpan buffer,
                              SignedImage& out) {
  uint32_t addr = 0;
  uint32_t padded_end = 0;
  while (!validator.done()) {
    const uint32_t n = min_u32(region.size() - addr, static_cast<uint32_t>(buffer.size()));
    if (n == 0) return Status::error(Code::kTruncated, "image runs to the end of its partition", addr);
    PRIVOTA_TRY(region.read(addr, buffer.first(n)));
    const Result<size_t> taken = validator.update(buffer.first(n));
    if (!taken.is_ok()) return taken.status();
    if (validator.done()) {
      out.info = validator.done_info();
      padded_end = signed_region_size(out.info.image_size);
      if (padded_end > region.size()) {
        return Status::error(Code::kTruncated, "image ends before its signature sector", padded_end);
      }
      // The validator stops at the image's end; the rest of this chunk is padding (up to padded_end).
      const uint32_t used = static_cast<uint32_t>(taken.value());
      sha256.update(buffer.subspan(used, min_u32(n, padded_end - addr) - used));
    }
    addr += n;
  }
  while (addr < padded_end) {
    const uint32_t n = min_u32(padded_end - addr, static_cast<uint32_t>(buffer.size()));
    PRIVOTA_TRY(region.read(addr, buffer.first(n)));
    sha256.update(buffer.first(n));
    addr += n;
  }
  sha256.finish(out.signed_digest);
  out.signed_size = padded_end + kSignatureSectorSize;
  return Status::ok();
}

Status verify_signature_sector(const TrustPolicy& policy, ConstByteSpan sector, Sha256& sha256,
                               SignatureVerifier& verifier, SignedImage& out) {
  if (policy.scheme == SignatureScheme::kNone) return Status::ok();
  if (policy.scheme == SignatureScheme::kSecureBootV2) {
    return sbv2::verify_sector(sector, out.signed_digest, policy.trusted_keys, sha256, verifier, out.block);
  }
#ifdef PRIVOTA_SECURE_BOOT_V2_ONLY
  // A bootloader verifies only the protected app (Secure Boot v2): the user-app certificate scheme and its
  // code are left out of it (the rv32 bootloader's 32 KiB region).
  return Status::error(Code::kUnsupported, "the user-app certificate scheme is not in this build");
#else
  if (policy.user_ca == nullptr) return Status::error(Code::kInvalidArgument, "no user-app CA configured");
  out.block = 0;
  return user_sig::verify_sector(sector, out.signed_digest, *policy.user_ca, verifier);
#endif
}

// The halves with the image as an out-parameter, which verify_signed_image() and the public halves share:
// no SignedImage (~0.5 KB) is copied through a Result, and the bootloader, which has only tens of bytes to
// spare in its 32 KiB, keeps the size it had before the split.
Status hash_into(Flash& region, const TrustPolicy& policy, Sha256& sha256, ByteSpan buffer,
                 SignedImage& out) {
  AppImageLimits limits = policy.limits;
  if (limits.max_image_size == 0 || limits.max_image_size > region.size())
    limits.max_image_size = region.size();
  AppImageValidator validator(sha256, limits);
  return hash_image_and_padding(region, validator, sha256, buffer, out);
}

// `sector` holds at least kSignatureSectorSize bytes.
Status check_into(Flash& region, const TrustPolicy& policy, Sha256& sha256, SignatureVerifier& verifier,
                  ByteSpan sector, SignedImage& image) {
  const uint32_t sector_at = signed_region_size(image.info.image_size);
  if (sector_at > region.size() || region.size() - sector_at < kSignatureSectorSize) {
    return Status::error(Code::kTruncated, "image ends before its signature sector", sector_at);
  }
  sector = sector.first(kSignatureSectorSize);
  PRIVOTA_TRY(region.read(sector_at, sector));
  PRIVOTA_TRY(verify_signature_sector(policy, sector, sha256, verifier, image));

  // Only an authentic image's secure_version means anything, so this comes after the signature.
  if (image.info.desc.secure_version < policy.min_secure_version) {
    return Status::error(Code::kRollback, "image secure_version is below the device's anti-rollback minimum",
                         image.info.desc.secure_version);
  }
  return Status::ok();
}

}  // namespace

Status hash_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256, ByteSpan buffer,
                         SignedImage& image) {
  if (buffer.empty()) return Status::error(Code::kInvalidArgument, "image read buffer is empty");
  image = SignedImage{};
  return hash_into(region, policy, sha256, buffer, image);
}

Status check_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256,
                          SignatureVerifier& verifier, ByteSpan sector, SignedImage& image) {
  if (sector.size() < kSignatureSectorSize) {
    return Status::error(Code::kInvalidArgument, "scratch buffer is smaller than a signature sector");
  }
  return check_into(region, policy, sha256, verifier, sector, image);
}

Result<SignedImage> verify_signed_image(Flash& region, const TrustPolicy& policy, Sha256& sha256,
                                        SignatureVerifier& verifier, ByteSpan scratch) {
  if (scratch.size() < kSignatureSectorSize) {
    return Status::error(Code::kInvalidArgument, "scratch buffer is smaller than a signature sector");
  }
  SignedImage out;
  PRIVOTA_TRY(hash_into(region, policy, sha256, scratch.first(kSignatureSectorSize), out));
  PRIVOTA_TRY(check_into(region, policy, sha256, verifier, scratch, out));
  return out;
}

}  // namespace privota
