#include "privota/user_app_signature.h"

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota {
namespace user_sig {

Status check_sector(ConstByteSpan sector) {
  if (sector.size() < kSignatureSectorSize) {
    return Status::error(Code::kTruncated, "user-app signature sector is shorter than 4 KiB");
  }
  if (sector[0] != kMagic) {
    bool erased = true;
    for (uint8_t b : sector.first(64))
      erased = erased && b == 0xFF;
    return erased ? Status::error(Code::kNotFound, "no user-app signature sector after the image")
                  : Status::error(Code::kBadMagic, "user-app signature sector has no magic 0xB7");
  }
  if (crc32_le(0, sector.first(kCrcOffset)) != load_le32(sector.data() + kCrcOffset)) {
    return Status::error(Code::kBadChecksum, "user-app signature sector CRC does not match");
  }
  if (sector[1] != kVersion) return Status::error(Code::kUnsupported, "user-app signature version is not 1");
  const uint32_t cert_len = load_le32(sector.data() + kCertLenOffset);
  if (cert_len == 0 || cert_len > kMaxCertLen) {
    return Status::error(Code::kBadLength, "user-app certificate length is 0 or more than 3664 bytes",
                         cert_len);
  }
  if (sector[kCertOffset + cert_len - 1] != 0) {
    return Status::error(Code::kBadLength, "user-app certificate does not end with its NUL at cert_len");
  }
  for (size_t i = kCertOffset + cert_len; i < kZeroPadOffset; ++i) {
    if (sector[i] != 0xFF) {
      return Status::error(Code::kTrailingData, "user-app signature sector holds data after the certificate",
                           static_cast<uint32_t>(i));
    }
  }
  for (size_t i = kZeroPadOffset; i < kCrcOffset; ++i) {
    if (sector[i] != 0) {
      return Status::error(Code::kTrailingData,
                           "user-app signature sector padding before the CRC is not zero");
    }
  }
  return Status::ok();
}

Status verify_sector(ConstByteSpan sector, const uint8_t (&image_digest)[32], CertificateVerifier& ca,
                     SignatureVerifier& verifier) {
  PRIVOTA_TRY(check_sector(sector));
  if (!digest_equal(sector.subspan(kImageDigestOffset, 32), ConstByteSpan(image_digest, 32))) {
    return Status::error(Code::kBadHash,
                         "user-app signature was made for a different image (digest differs)");
  }
  const uint32_t cert_len = load_le32(sector.data() + kCertLenOffset);
  CertifiedRsaKey key;
  PRIVOTA_TRY(ca.verify_certificate(sector.subspan(kCertOffset, cert_len), key));
  if (key.modulus_len != kRsa3072Bytes) {
    return Status::error(Code::kUnsupported, "user-app certificate key is not RSA-3072",
                         static_cast<uint32_t>(key.modulus_len * 8));
  }
  const Status signature =
      verifier.verify_rsa_pss_sha256(ConstByteSpan(key.modulus, key.modulus_len), key.exponent, image_digest,
                                     sector.subspan(kSignatureOffset, kSignatureSize));
  if (!signature.is_ok()) {
    return Status::error(Code::kBadSignature,
                         "user-app signature does not verify with the certificate's key");
  }
  return Status::ok();
}

void seal_sector(ByteSpan sector) {
  store_le32(sector.data() + kCrcOffset, crc32_le(0, ConstByteSpan(sector.data(), kCrcOffset)));
}

}  // namespace user_sig
}  // namespace privota
