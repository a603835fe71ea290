// Secure Boot v2 signature blocks, byte for byte as espsecure.py writes them and the ESP ROM reads them
// (ESP-IDF components/esp_rom/.../secure_boot.h, esptool espsecure; checked against tests/data/signature):
//
//   1216-byte block, up to three at sector offsets 0, 1216, 2432; the rest of the 4 KiB sector is 0xFF.
//   +0 magic 0xE7  +1 version (0x02 RSA-3072-PSS, 0x03 ECDSA)  +2 2 bytes  +4 image_digest[32]
//   RSA:   +36 n[384] LE  +420 e u32  +424 rinv[384] LE  +808 mdash u32  +812 signature[384] LE
//   ECDSA: +36 curve id (2 = P-256)  +37 X[32] LE  +69 Y[32] LE  +101 r[32] LE  +133 s[32] LE, zeros
//   +1196 CRC32 = crc32_le(0, block[0..1196))   +1200 16 zero bytes
// The key digest trusted by the device is SHA-256 of the key as stored: bytes 36..812 (RSA) or 36..101
// (ECDSA). Signatures are RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) or ECDSA over the image digest.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/digest.h"
#include "privota/signature_verifier.h"
#include "privota/signed_image.h"

namespace privota {
namespace sbv2 {

constexpr size_t kBlockSize = 1216;
constexpr size_t kMaxBlocks = 3;
constexpr uint8_t kMagic = 0xE7;
constexpr uint8_t kVersionRsa = 0x02;
constexpr uint8_t kVersionEcdsa = 0x03;
constexpr size_t kImageDigestOffset = 4;
constexpr size_t kKeyOffset = 36;
constexpr size_t kRsaKeySize = 776;  // n, e, rinv, mdash
constexpr size_t kRsaNOffset = 36;
constexpr size_t kRsaEOffset = 420;
constexpr size_t kRsaRinvOffset = 424;
constexpr size_t kRsaMdashOffset = 808;
constexpr size_t kRsaSignatureOffset = 812;
constexpr uint8_t kCurveP256 = 2;
constexpr size_t kEcdsaKeySize = 65;  // curve id, X, Y
constexpr size_t kEcdsaCurveOffset = 36;
constexpr size_t kEcdsaXOffset = 37;
constexpr size_t kEcdsaYOffset = 69;
constexpr size_t kEcdsaROffset = 101;
constexpr size_t kEcdsaSOffset = 133;
constexpr size_t kCrcOffset = 1196;

// Magic, version, curve and CRC of one block.
Status check_block(ConstByteSpan block);
// The digest a device must trust for this block's key (block must pass check_block()).
void key_digest(ConstByteSpan block, Sha256& sha256, KeyDigest& out);
// Full check of one block against the image's digest and the trusted keys.
Status verify_block(ConstByteSpan block, const uint8_t (&image_digest)[32], Span<const KeyDigest> trusted,
                    Sha256& sha256, SignatureVerifier& verifier);
// Verifies a 4 KiB signature sector: accepted when one block verifies with a trusted key (`which` says
// which). Otherwise the most telling failure among the blocks: a trusted key whose signature fails says more
// than an unknown key.
Status verify_sector(ConstByteSpan sector, const uint8_t (&image_digest)[32], Span<const KeyDigest> trusted,
                     Sha256& sha256, SignatureVerifier& verifier, uint8_t& which);
// Writes the CRC of a block whose other fields are filled in (for signing tools).
void seal_block(ByteSpan block);

}  // namespace sbv2
}  // namespace privota
