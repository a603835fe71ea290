#include "privota/secure_boot_v2.h"

#include <string.h>

#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota {
namespace sbv2 {
namespace {

// Blocks store big numbers least significant byte first; the verifier interface takes them big-endian.
void reverse_copy(const uint8_t* from, size_t n, uint8_t* to) {
  for (size_t i = 0; i < n; ++i)
    to[i] = from[n - 1 - i];
}

template <size_t N>
void reverse_into(const uint8_t* from, uint8_t (&to)[N]) {
  reverse_copy(from, N, to);
}

bool all_ff(ConstByteSpan bytes) {
  for (uint8_t b : bytes) {
    if (b != 0xFF) return false;
  }
  return true;
}

bool trusted_key(const KeyDigest& digest, Span<const KeyDigest> trusted) {
  for (const KeyDigest& t : trusted) {
    if (digest_equal(ConstByteSpan(t.bytes, sizeof t.bytes),
                     ConstByteSpan(digest.bytes, sizeof digest.bytes))) {
      return true;
    }
  }
  return false;
}

Status verify_rsa(ConstByteSpan block, const uint8_t (&image_digest)[32], SignatureVerifier& verifier) {
  uint8_t modulus[kRsa3072Bytes];
  uint8_t signature[kRsa3072Bytes];
  reverse_into(block.data() + kRsaNOffset, modulus);
  reverse_into(block.data() + kRsaSignatureOffset, signature);
  return verifier.verify_rsa_pss_sha256(ConstByteSpan(modulus, sizeof modulus),
                                        load_le32(block.data() + kRsaEOffset), image_digest,
                                        ConstByteSpan(signature, sizeof signature));
}

Status verify_ecdsa(ConstByteSpan block, const uint8_t (&image_digest)[32], SignatureVerifier& verifier) {
  uint8_t x[kP256Bytes];
  uint8_t y[kP256Bytes];
  uint8_t r[kP256Bytes];
  uint8_t s[kP256Bytes];
  reverse_into(block.data() + kEcdsaXOffset, x);
  reverse_into(block.data() + kEcdsaYOffset, y);
  reverse_into(block.data() + kEcdsaROffset, r);
  reverse_into(block.data() + kEcdsaSOffset, s);
  return verifier.verify_ecdsa_p256(x, y, image_digest, r, s);
}

// How far a block got before it failed; the sector reports the block that got furthest.
int depth_of(Code code) {
  switch (code) {
    case Code::kBadMagic:
      return 0;
    case Code::kBadChecksum:
      return 1;
    case Code::kUnsupported:
      return 2;
    case Code::kBadHash:
      return 3;
    case Code::kUntrusted:
      return 4;
    default:
      return 5;
  }
}

// Blocks are contiguous from slot 0 and everything after them is 0xFF, as espsecure writes it. A damaged
// block or stray bytes are refused outright: nothing in the sector is covered by a signature, so any
// unexpected byte means it was altered.
Result<size_t> count_blocks(ConstByteSpan sector) {
  size_t blocks = 0;
  while (blocks < kMaxBlocks && !all_ff(sector.subspan(blocks * kBlockSize, kBlockSize))) {
    PRIVOTA_TRY(check_block(sector.subspan(blocks * kBlockSize, kBlockSize)));
    ++blocks;
  }
  if (!all_ff(sector.subspan(blocks * kBlockSize))) {
    return Status::error(Code::kTrailingData, "signature sector holds data after its last block",
                         static_cast<uint32_t>(blocks * kBlockSize));
  }
  if (blocks == 0) return Status::error(Code::kNotFound, "no Secure Boot v2 signature block after the image");
  return blocks;
}

}  // namespace

Status check_block(ConstByteSpan block) {
  if (block.size() < kBlockSize) return Status::error(Code::kTruncated, "Secure Boot v2 block is truncated");
  if (block[0] != kMagic) return Status::error(Code::kBadMagic, "Secure Boot v2 block has no magic 0xE7");
  const uint32_t crc = crc32_le(0, block.first(kCrcOffset));
  if (crc != load_le32(block.data() + kCrcOffset)) {
    return Status::error(Code::kBadChecksum, "Secure Boot v2 block CRC does not match");
  }
  // The 16 bytes after the CRC are the only ones it does not cover; espsecure writes zeros.
  for (size_t i = kCrcOffset + 4; i < kBlockSize; ++i) {
    if (block[i] != 0) return Status::error(Code::kTrailingData, "Secure Boot v2 block padding is not zero");
  }
  if (block[1] == kVersionRsa) return Status::ok();
  if (block[1] == kVersionEcdsa) {
    if (block[kEcdsaCurveOffset] != kCurveP256) {
      return Status::error(Code::kUnsupported, "Secure Boot v2 ECDSA block is not for curve P-256");
    }
    return Status::ok();
  }
  return Status::error(Code::kUnsupported, "Secure Boot v2 block version is neither RSA (2) nor ECDSA (3)");
}

void key_digest(ConstByteSpan block, Sha256& sha256, KeyDigest& out) {
  const size_t size = block[1] == kVersionRsa ? kRsaKeySize : kEcdsaKeySize;
  sha256.begin();
  sha256.update(block.subspan(kKeyOffset, size));
  sha256.finish(out.bytes);
}

Status verify_block(ConstByteSpan block, const uint8_t (&image_digest)[32], Span<const KeyDigest> trusted,
                    Sha256& sha256, SignatureVerifier& verifier) {
  PRIVOTA_TRY(check_block(block));
  if (!digest_equal(block.subspan(kImageDigestOffset, 32), ConstByteSpan(image_digest, 32))) {
    return Status::error(Code::kBadHash,
                         "Secure Boot v2 block was made for a different image (digest differs)");
  }
  KeyDigest digest;
  key_digest(block, sha256, digest);
  if (!trusted_key(digest, trusted)) {
    return Status::error(Code::kUntrusted,
                         "Secure Boot v2 block is signed by a key the device does not trust");
  }
  return block[1] == kVersionRsa ? verify_rsa(block, image_digest, verifier)
                                 : verify_ecdsa(block, image_digest, verifier);
}

Status verify_sector(ConstByteSpan sector, const uint8_t (&image_digest)[32], Span<const KeyDigest> trusted,
                     Sha256& sha256, SignatureVerifier& verifier, uint8_t& which) {
  if (sector.size() < kSignatureSectorSize) {
    return Status::error(Code::kTruncated, "signature sector is shorter than 4 KiB");
  }
  sector = sector.first(kSignatureSectorSize);
  const Result<size_t> blocks = count_blocks(sector);
  if (!blocks.is_ok()) return blocks.status();
  Status best;
  for (size_t i = 0; i < blocks.value(); ++i) {
    const ConstByteSpan block = sector.subspan(i * kBlockSize, kBlockSize);
    const Status status = verify_block(block, image_digest, trusted, sha256, verifier);
    if (status.is_ok()) {
      which = static_cast<uint8_t>(i);
      return status;
    }
    if (best.is_ok() || depth_of(status.code()) > depth_of(best.code())) best = status;
  }
  return best;
}

void seal_block(ByteSpan block) {
  store_le32(block.data() + kCrcOffset, crc32_le(0, ConstByteSpan(block.data(), kCrcOffset)));
}

}  // namespace sbv2
}  // namespace privota
