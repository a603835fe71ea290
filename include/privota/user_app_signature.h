// The ESP Privilege Separation user-app signature sector, byte for byte as esp-privilege-separation's
// esp_ps_secure_boot_util.py sign_user_app writes it (checked against tests/data/signature):
//
//   one 4096-byte sector after the 0xFF-padded image
//   +0 magic 0xB7  +1 version 0x01  +2 2 zero bytes  +4 image_digest[32] (SHA-256 of the padded image)
//   +36 RSA-3072-PSS signature[384], big-endian (SHA-256, MGF1-SHA-256, salt 32)
//   +420 cert_len u32: length of the PEM certificate including its terminating NUL (at most 3664)
//   +424 the PEM, its NUL, 0xFF up to +4088   +4088 4 zero bytes   +4092 CRC32 = crc32_le(0, sector[0..4092))
//
// The certificate (UAC) carries the user-app developer's RSA-3072 key and must be issued by the protected
// app owner's CA. We check more than ESP-PrivSep's device code does: version, cert_len bounds, the NUL, the
// padding, the stored digest, and that the key is RSA-3072.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/signature_verifier.h"
#include "privota/signed_image.h"

namespace privota {
namespace user_sig {

constexpr uint8_t kMagic = 0xB7;
constexpr uint8_t kVersion = 0x01;
constexpr size_t kImageDigestOffset = 4;
constexpr size_t kSignatureOffset = 36;
constexpr size_t kSignatureSize = 384;
constexpr size_t kCertLenOffset = 420;
constexpr size_t kCertOffset = 424;
constexpr size_t kMaxCertLen = 3664;
constexpr size_t kZeroPadOffset = 4088;
constexpr size_t kCrcOffset = 4092;

// Layout of the sector: magic, version, CRC, certificate length, NUL and padding.
Status check_sector(ConstByteSpan sector);
// Full check: layout, stored digest, certificate chain and key size, signature.
Status verify_sector(ConstByteSpan sector, const uint8_t (&image_digest)[32], CertificateVerifier& ca,
                     SignatureVerifier& verifier);
// Writes the CRC of a sector whose other fields are filled in (for signing tools).
void seal_sector(ByteSpan sector);

}  // namespace user_sig
}  // namespace privota
