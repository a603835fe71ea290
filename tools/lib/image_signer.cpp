#include "image_signer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>
#include <mbedtls/asn1.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/error.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "privota/app_image.h"
#include "privota/byte_order.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/secure_boot_v2.h"
#include "privota/signed_image.h"
#include "privota/user_app_signature.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

using Digest = std::array<uint8_t, 32>;

constexpr size_t kPssSaltLength = 32;  // espsecure and esp_ps_secure_boot_util both sign with a 32-byte salt
constexpr size_t kEcdsaRawSize = 2 * kP256Bytes;

// An image as a signer reads it: the signed region and the signature sector it may carry already.
struct SigningInput {
  std::vector<uint8_t> padded;  // the image, 0xFF up to its 4 KiB boundary
  Digest digest{};              // SHA-256 of `padded`: what every signature covers
  std::vector<uint8_t> sector;  // the signature sector after it; empty when the image is unsigned
};

void check_mbedtls(int rc, const char* doing) {
  if (rc == 0) return;
  char text[160];
  mbedtls_strerror(rc, text, sizeof text);
  throw ToolError(fmt::format("{}: {}", doing, text));
}

bool is_signature_magic(uint8_t byte) {
  return byte == sbv2::kMagic || byte == user_sig::kMagic;
}

bool all_ff(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0xFF; });
}

// The image up to its end, as the device checks it (an image without its appended SHA-256 is refused).
uint32_t checked_image_size(const std::vector<uint8_t>& image) {
  host::MbedSha256 sha;
  AppImageLimits limits;
  limits.max_image_size = 0;  // no partition to fit: the file's end is the limit
  limits.require_hash = true;
  AppImageValidator validator(sha, limits);
  const Result<size_t> used = validator.update({image.data(), image.size()});
  const Result<AppImageInfo> info = used.is_ok() ? validator.info() : Result<AppImageInfo>(used.status());
  if (!info.is_ok()) throw ToolError("not a valid app image: " + describe(info.status()));
  return info->image_size;
}

// Splits the file into the signed region, exactly as the device hashes it, and the sector after it.
SigningInput read_image(const std::vector<uint8_t>& image) {
  const uint32_t image_size = checked_image_size(image);
  const size_t padded_size = signed_region_size(image_size);
  SigningInput in;
  if (image.size() > padded_size) {
    if (!is_signature_magic(image[padded_size])) {
      throw ToolError(fmt::format(
          "{} bytes follow the image past its 4 KiB boundary and they are no signature sector; sign the "
          "unsigned image",
          image.size() - padded_size));
    }
    if (image.size() != padded_size + kSignatureSectorSize) {
      throw ToolError(fmt::format("the signature sector after the image is {} bytes, not {}",
                                  image.size() - padded_size, kSignatureSectorSize));
    }
    in.sector.assign(image.begin() + static_cast<ptrdiff_t>(padded_size), image.end());
  }
  const auto padding_end = image.begin() + static_cast<ptrdiff_t>(std::min(image.size(), padded_size));
  const auto not_ff =
      std::find_if(image.begin() + image_size, padding_end, [](uint8_t b) { return b != 0xFF; });
  if (not_ff != padding_end) {
    throw ToolError(
        fmt::format("the bytes after the image are not 0xFF padding (0x{:02x} at 0x{:x}); "
                    "sign the unsigned image",
                    *not_ff, not_ff - image.begin()));
  }
  in.padded.assign(image.begin(), padding_end);
  in.padded.resize(padded_size, 0xFF);
  check_mbedtls(mbedtls_sha256_ret(in.padded.data(), in.padded.size(), in.digest.data(), 0),
                "hashing the image");
  return in;
}

SigningInput read_unsigned_image(const std::vector<uint8_t>& image) {
  SigningInput in = read_image(image);
  if (!in.sector.empty()) {
    throw ToolError(
        "the image already carries a signature sector; sign the unsigned image (or add a Secure Boot v2 "
        "block with --append)");
  }
  return in;
}

// The Secure Boot v2 blocks a signed image carries, checked as an appender must: each intact and made for
// this image (a block for another image would never verify, so the image was altered or mixed up).
size_t existing_blocks(const SigningInput& in) {
  if (in.sector.empty()) {
    throw ToolError(
        "the image is unsigned; --append adds a block to a Secure Boot v2 signed image (sign it first "
        "without --append)");
  }
  if (in.sector[0] == user_sig::kMagic) {
    throw ToolError(
        "the image carries a user-app certificate sector; only Secure Boot v2 images take more "
        "signature blocks");
  }
  const std::span<const uint8_t> sector(in.sector);
  size_t blocks = 0;
  while (blocks < sbv2::kMaxBlocks && !all_ff(sector.subspan(blocks * sbv2::kBlockSize, sbv2::kBlockSize))) {
    const std::span<const uint8_t> block = sector.subspan(blocks * sbv2::kBlockSize, sbv2::kBlockSize);
    const Status status = sbv2::check_block({block.data(), block.size()});
    if (!status.is_ok()) throw ToolError(fmt::format("block {} is damaged: {}", blocks, describe(status)));
    if (!std::equal(in.digest.begin(), in.digest.end(), block.begin() + sbv2::kImageDigestOffset)) {
      throw ToolError(fmt::format(
          "block {} was made for a different image (its digest differs); sign the image again", blocks));
    }
    ++blocks;
  }
  if (!all_ff(sector.subspan(blocks * sbv2::kBlockSize))) {
    throw ToolError("the signature sector holds data after its last block");
  }
  return blocks;
}

Digest block_key_digest(const SigningInput& in, size_t block) {
  host::MbedSha256 sha;
  KeyDigest digest;
  sbv2::key_digest({in.sector.data() + block * sbv2::kBlockSize, sbv2::kBlockSize}, sha, digest);
  Digest out;
  std::copy(std::begin(digest.bytes), std::end(digest.bytes), out.begin());
  return out;
}

// Refuses a key that signs the image twice, in this call or in a block the image carries already.
void check_distinct(std::span<const Key* const> keys, const SigningInput& in, size_t existing) {
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (keys[i]->same_public_key(*keys[j])) {
        throw ToolError(fmt::format("'{}' and '{}' are the same key", keys[j]->name(), keys[i]->name()));
      }
    }
    const Digest digest = keys[i]->sbv2_key_digest();
    for (size_t b = 0; b < existing; ++b) {
      if (block_key_digest(in, b) == digest)
        throw ToolError(fmt::format("'{}' signed block {} already", keys[i]->name(), b));
    }
  }
}

void check_block_count(size_t existing, size_t more) {
  if (more == 0 || existing + more > sbv2::kMaxBlocks) {
    throw ToolError(fmt::format(
        "Secure Boot v2 takes 1 to {} blocks; the image has {} and {} more were asked for (a chip trusts "
        "at most {} keys)",
        sbv2::kMaxBlocks, existing, more, sbv2::kMaxBlocks));
  }
}

// Signatures big-endian, as signers produce them: RSA 384 bytes; ECDSA r | s, 32 bytes each.
std::vector<uint8_t> rsa_pss_sign(const Key& key, const Digest& digest, Random& random) {
  mbedtls_rsa_context* rsa = mbedtls_pk_rsa(*key.pk());
  // PKCS#1 v2.1 with SHA-256 also makes MGF1 use SHA-256.
  mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
  std::vector<uint8_t> signature(kRsa3072Bytes);
  check_mbedtls(mbedtls_rsa_rsassa_pss_sign_ext(rsa, Random::generate, &random, MBEDTLS_MD_SHA256,
                                                static_cast<unsigned>(digest.size()), digest.data(),
                                                static_cast<int>(kPssSaltLength), signature.data()),
                "RSA-PSS signing");
  return signature;
}

struct EcdsaSignature {
  mbedtls_ecp_group group;
  mbedtls_mpi r;
  mbedtls_mpi s;
  EcdsaSignature() {
    mbedtls_ecp_group_init(&group);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
  }
  ~EcdsaSignature() {
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_group_free(&group);
  }
  EcdsaSignature(const EcdsaSignature&) = delete;
  EcdsaSignature& operator=(const EcdsaSignature&) = delete;

  // r | s big-endian; false when either does not fit 32 bytes.
  bool raw(std::vector<uint8_t>& out) const {
    out.assign(kEcdsaRawSize, 0);
    return mbedtls_mpi_write_binary(&r, out.data(), kP256Bytes) == 0 &&
           mbedtls_mpi_write_binary(&s, out.data() + kP256Bytes, kP256Bytes) == 0;
  }
};

// Deterministic (RFC 6979): the nonce comes from the key and the digest, so a weak random source cannot leak
// the key and the same image signs to the same block. `random` only blinds the computation.
std::vector<uint8_t> ecdsa_sign(const Key& key, const Digest& digest, Random& random) {
  const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(*key.pk());
  EcdsaSignature signature;
  check_mbedtls(mbedtls_ecp_group_copy(&signature.group, &ec->grp), "ECDSA signing");
  check_mbedtls(
      mbedtls_ecdsa_sign_det_ext(&signature.group, &signature.r, &signature.s, &ec->d, digest.data(),
                                 digest.size(), MBEDTLS_MD_SHA256, Random::generate, &random),
      "ECDSA signing");
  std::vector<uint8_t> out;
  if (!signature.raw(out)) throw ToolError("internal error: an ECDSA P-256 signature wider than 32 bytes");
  return out;
}

// An ECDSA signature as a signer hands it over: 64 raw bytes, or DER.
std::vector<uint8_t> ecdsa_raw(const std::vector<uint8_t>& signature) {
  if (signature.size() == kEcdsaRawSize) return signature;
  EcdsaSignature parsed;
  unsigned char* p = const_cast<unsigned char*>(signature.data());
  const unsigned char* end = p + signature.size();
  size_t length = 0;
  std::vector<uint8_t> out;
  if (signature.empty() ||
      mbedtls_asn1_get_tag(&p, end, &length, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
      p + length != end || mbedtls_asn1_get_mpi(&p, end, &parsed.r) != 0 ||
      mbedtls_asn1_get_mpi(&p, end, &parsed.s) != 0 || p != end || !parsed.raw(out)) {
    throw ToolError(
        fmt::format("the signature is {} bytes and no ECDSA P-256 signature: give it as DER (what `openssl "
                    "pkeyutl` writes) or as 64 bytes r | s",
                    signature.size()));
  }
  return out;
}

std::vector<uint8_t> rsa_raw(const std::vector<uint8_t>& signature) {
  if (signature.size() != kRsa3072Bytes) {
    throw ToolError(fmt::format(
        "the signature is {} bytes; an RSA-3072 signature is {} (big-endian, what `openssl pkeyutl` writes)",
        signature.size(), kRsa3072Bytes));
  }
  return signature;
}

std::vector<uint8_t> sign_digest(const Key& key, const Digest& digest, Random& random) {
  return key.is(KeyKind::kRsa3072) ? rsa_pss_sign(key, digest, random) : ecdsa_sign(key, digest, random);
}

// One 1216-byte block (layout in privota/secure_boot_v2.h): zeros except magic, version, digest, key,
// signature and CRC, as espsecure writes it. `signature` big-endian (see rsa_pss_sign, ecdsa_sign); the
// block stores its numbers least significant byte first.
std::array<uint8_t, sbv2::kBlockSize> sbv2_block(const Key& key, const Digest& digest,
                                                 const std::vector<uint8_t>& signature) {
  std::array<uint8_t, sbv2::kBlockSize> block{};
  const std::vector<uint8_t> public_key = key.sbv2_public_key();  // refuses other key types
  const bool rsa = key.is(KeyKind::kRsa3072);
  block[0] = sbv2::kMagic;
  block[1] = rsa ? sbv2::kVersionRsa : sbv2::kVersionEcdsa;
  // block[2] is espsecure's hash id for ECDSA: 0 = SHA-256, the only one P-256 uses.
  std::copy(digest.begin(), digest.end(), block.begin() + sbv2::kImageDigestOffset);
  std::copy(public_key.begin(), public_key.end(), block.begin() + sbv2::kKeyOffset);
  if (rsa) {
    std::reverse_copy(signature.begin(), signature.end(), block.begin() + sbv2::kRsaSignatureOffset);
  } else {
    std::reverse_copy(signature.begin(), signature.begin() + kP256Bytes, block.begin() + sbv2::kEcdsaROffset);
    std::reverse_copy(signature.begin() + kP256Bytes, signature.end(), block.begin() + sbv2::kEcdsaSOffset);
  }
  sbv2::seal_block({block.data(), block.size()});
  return block;
}

// Checks the blocks from `first` on with the core's checks, each against its own key. A block that does not
// verify is a bug when we signed it, and a wrong signature when it came from outside (`external`).
void check_blocks(const std::vector<uint8_t>& sector, size_t first, std::span<const Key* const> keys,
                  const Digest& digest, bool external) {
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  uint8_t image_digest[32];
  std::copy(digest.begin(), digest.end(), image_digest);
  for (size_t i = 0; i < keys.size(); ++i) {
    KeyDigest trusted;
    const Digest key_digest = keys[i]->sbv2_key_digest();
    std::copy(key_digest.begin(), key_digest.end(), trusted.bytes);
    const Status status =
        sbv2::verify_block({sector.data() + (first + i) * sbv2::kBlockSize, sbv2::kBlockSize}, image_digest,
                           {&trusted, 1}, sha, verifier);
    if (status.is_ok()) continue;
    if (!external) {
      throw ToolError("internal error: the new signature block does not verify: " + describe(status));
    }
    throw ToolError(fmt::format(
        "the signature does not verify with '{}' ({}); sign the 32 bytes `privota image digest` writes with "
        "that key ({})",
        keys[i]->name(), describe(status),
        keys[i]->is(KeyKind::kRsa3072) ? "RSA-PSS, SHA-256, MGF1-SHA-256, salt 32" : "ECDSA, SHA-256"));
  }
}

// Builds the signed file: the signed region, the blocks it carried, and one new block per signature.
std::vector<uint8_t> place_blocks(SigningInput& in, size_t existing, std::span<const Key* const> keys,
                                  const std::vector<std::vector<uint8_t>>& signatures, bool external) {
  std::vector<uint8_t> sector(kSignatureSectorSize, 0xFF);
  if (existing > 0) {
    std::copy(in.sector.begin(), in.sector.begin() + static_cast<ptrdiff_t>(existing * sbv2::kBlockSize),
              sector.begin());
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto block = sbv2_block(*keys[i], in.digest, signatures[i]);
    std::copy(block.begin(), block.end(),
              sector.begin() + static_cast<ptrdiff_t>((existing + i) * sbv2::kBlockSize));
  }
  check_blocks(sector, existing, keys, in.digest, external);
  in.padded.insert(in.padded.end(), sector.begin(), sector.end());
  return std::move(in.padded);
}

void check_signing_key(const Key& key) {
  if (!key.is_private())
    throw ToolError(fmt::format("'{}' holds only a public key; signing needs the private key", key.name()));
  (void)key.sbv2_public_key();  // refuses a key type Secure Boot v2 does not define, before any work
}

std::vector<uint8_t> sign_blocks(SigningInput in, size_t existing, std::span<const Key> keys) {
  check_block_count(existing, keys.size());
  std::vector<const Key*> list;
  for (const Key& key : keys) {
    check_signing_key(key);
    list.push_back(&key);
  }
  check_distinct(list, in, existing);
  Random random;
  std::vector<std::vector<uint8_t>> signatures;
  for (const Key& key : keys)
    signatures.push_back(sign_digest(key, in.digest, random));
  return place_blocks(in, existing, list, signatures, false);
}

struct Certificate {
  mbedtls_x509_crt crt;
  Certificate() { mbedtls_x509_crt_init(&crt); }
  ~Certificate() { mbedtls_x509_crt_free(&crt); }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
};

// Parses the UAC as the device will: one PEM certificate, its NUL inside the length, which must fit.
void parse_uac(Certificate& cert, const std::string& pem) {
  const size_t cert_len = pem.size() + 1;  // the device's X.509 parser needs the NUL inside the length
  if (cert_len > user_sig::kMaxCertLen) {
    throw ToolError(
        fmt::format("the certificate is {} bytes with its NUL; the user-app signature sector holds at "
                    "most {}",
                    cert_len, user_sig::kMaxCertLen));
  }
  if (pem.find('\0') != std::string::npos) {
    throw ToolError("the certificate is not PEM text (it contains a NUL byte)");
  }
  if (mbedtls_x509_crt_parse(&cert.crt, reinterpret_cast<const unsigned char*>(pem.c_str()),
                             pem.size() + 1) != 0) {
    throw ToolError("the certificate does not parse as PEM X.509");
  }
  if (cert.crt.next != nullptr) {
    throw ToolError(
        "the certificate file holds more than one certificate; give the user-app certificate only");
  }
}

void check_user_key(const Key& key) {
  if (!key.is(KeyKind::kRsa3072)) {
    throw ToolError(
        fmt::format("'{}' is an {} key; user-app signing keys are RSA-3072", key.name(), key.description()));
  }
}

// The UAC's key, as a Key the signer can check signatures with.
Key uac_key(const std::string& uac_pem) {
  Certificate cert;
  parse_uac(cert, uac_pem);
  std::vector<unsigned char> buffer(4096);
  check_mbedtls(mbedtls_pk_write_pubkey_pem(&cert.crt.pk, buffer.data(), buffer.size()),
                "reading the certificate's key");
  Key key = Key::from_pem(reinterpret_cast<const char*>(buffer.data()), "the certificate's key");
  check_user_key(key);
  return key;
}

void check_user_signature(std::span<const uint8_t> sector, const Key& key, const Digest& digest,
                          bool external) {
  Status status = user_sig::check_sector({sector.data(), sector.size()});
  if (status.is_ok()) {
    host::MbedSignatureVerifier verifier;
    const Key::RsaPublic rsa = key.rsa_public();
    uint8_t image_digest[32];
    std::copy(digest.begin(), digest.end(), image_digest);
    status = verifier.verify_rsa_pss_sha256(
        {rsa.modulus.data(), rsa.modulus.size()}, rsa.exponent, image_digest,
        {sector.data() + user_sig::kSignatureOffset, user_sig::kSignatureSize});
  }
  if (status.is_ok()) return;
  if (!external) {
    throw ToolError("internal error: the new user-app signature does not verify: " + describe(status));
  }
  throw ToolError(fmt::format(
      "the signature does not verify with the certificate's key ({}); sign the 32 bytes `privota image "
      "digest` writes with that key (RSA-PSS, SHA-256, MGF1-SHA-256, salt 32)",
      describe(status)));
}

// The 0xB7 sector around a signature (384 bytes, big-endian: unlike Secure Boot v2 blocks, stored as is).
std::vector<uint8_t> user_app_signed(SigningInput in, const Key& key, const std::string& uac_pem,
                                     const std::vector<uint8_t>& signature, bool external) {
  std::vector<uint8_t> sector(kSignatureSectorSize, 0xFF);
  sector[0] = user_sig::kMagic;
  sector[1] = user_sig::kVersion;
  sector[2] = 0;
  sector[3] = 0;
  std::copy(in.digest.begin(), in.digest.end(), sector.begin() + user_sig::kImageDigestOffset);
  std::copy(signature.begin(), signature.end(), sector.begin() + user_sig::kSignatureOffset);
  store_le32(sector.data() + user_sig::kCertLenOffset, static_cast<uint32_t>(uac_pem.size() + 1));
  std::copy(uac_pem.begin(), uac_pem.end(), sector.begin() + user_sig::kCertOffset);
  sector[user_sig::kCertOffset + uac_pem.size()] = 0;
  std::fill(sector.begin() + user_sig::kZeroPadOffset, sector.begin() + user_sig::kCrcOffset, 0);
  user_sig::seal_sector({sector.data(), sector.size()});

  check_user_signature(sector, key, in.digest, external);
  in.padded.insert(in.padded.end(), sector.begin(), sector.end());
  return std::move(in.padded);
}

}  // namespace

std::array<uint8_t, 32> signed_digest(const std::vector<uint8_t>& image) {
  return read_image(image).digest;
}

std::vector<uint8_t> sign_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys) {
  if (keys.empty() || keys.size() > sbv2::kMaxBlocks) {
    throw ToolError(fmt::format("Secure Boot v2 takes 1 to 3 keys, not {}", keys.size()));
  }
  for (const Key& key : keys)
    check_signing_key(key);
  return sign_blocks(read_unsigned_image(image), 0, keys);
}

std::vector<uint8_t> append_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys) {
  for (const Key& key : keys)
    check_signing_key(key);
  SigningInput in = read_image(image);
  const size_t existing = existing_blocks(in);
  return sign_blocks(std::move(in), existing, keys);
}

std::vector<uint8_t> sign_user_app(const std::vector<uint8_t>& image, const Key& user_key,
                                   const std::string& uac_pem) {
  if (!user_key.is_private()) {
    throw ToolError(
        fmt::format("'{}' holds only a public key; signing needs the private key", user_key.name()));
  }
  check_user_key(user_key);
  {
    Certificate cert;
    parse_uac(cert, uac_pem);
    if (mbedtls_pk_check_pair(&cert.crt.pk, user_key.pk()) != 0) {
      throw ToolError(
          fmt::format("the certificate is not for '{}': it carries another public key", user_key.name()));
    }
  }
  SigningInput in = read_unsigned_image(image);
  Random random;
  const std::vector<uint8_t> signature = rsa_pss_sign(user_key, in.digest, random);
  return user_app_signed(std::move(in), user_key, uac_pem, signature, false);
}

std::vector<uint8_t> attach_secure_boot_v2(const std::vector<uint8_t>& image, const Key& public_key,
                                           const std::vector<uint8_t>& signature, bool append) {
  (void)public_key.sbv2_public_key();  // refuses a key type Secure Boot v2 does not define
  SigningInput in = append ? read_image(image) : read_unsigned_image(image);
  const size_t existing = append ? existing_blocks(in) : 0;
  check_block_count(existing, 1);
  const Key* keys[] = {&public_key};
  check_distinct(keys, in, existing);
  const std::vector<uint8_t> raw =
      public_key.is(KeyKind::kRsa3072) ? rsa_raw(signature) : ecdsa_raw(signature);
  return place_blocks(in, existing, keys, {raw}, true);
}

std::vector<uint8_t> attach_user_app(const std::vector<uint8_t>& image, const std::string& uac_pem,
                                     const std::vector<uint8_t>& signature) {
  const Key key = uac_key(uac_pem);
  SigningInput in = read_unsigned_image(image);
  return user_app_signed(std::move(in), key, uac_pem, rsa_raw(signature), true);
}

}  // namespace privota::tools
