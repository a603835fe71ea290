#include "image_signer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>
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

struct PaddedImage {
  std::vector<uint8_t> bytes;  // the image, 0xFF up to the 4 KiB boundary
  Digest digest{};             // SHA-256 of `bytes`: what the signature covers
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

// The signed region, exactly as the device hashes it: the image up to its 4 KiB boundary.
PaddedImage pad_image(const std::vector<uint8_t>& image) {
  host::MbedSha256 sha;
  AppImageLimits limits;
  limits.max_image_size = 0;   // no partition to fit: the file's end is the limit
  limits.require_hash = true;  // as the device: an image without its appended SHA-256 is refused
  AppImageValidator validator(sha, limits);
  const Result<size_t> used = validator.update({image.data(), image.size()});
  const Result<AppImageInfo> info = used.is_ok() ? validator.info() : Result<AppImageInfo>(used.status());
  if (!info.is_ok()) throw ToolError("not a valid app image: " + describe(info.status()));

  const size_t image_size = info->image_size;
  const size_t padded_size = signed_region_size(info->image_size);
  if (image.size() > padded_size) {
    if (is_signature_magic(image[padded_size])) {
      throw ToolError("the image already carries a signature sector; sign the unsigned image");
    }
    throw ToolError(fmt::format("{} bytes follow the image past its 4 KiB boundary; sign the unsigned image",
                                image.size() - padded_size));
  }
  const auto not_ff = std::find_if(image.begin() + static_cast<ptrdiff_t>(image_size), image.end(),
                                   [](uint8_t b) { return b != 0xFF; });
  if (not_ff != image.end()) {
    throw ToolError(
        fmt::format("the bytes after the image are not 0xFF padding (0x{:02x} at 0x{:x}); "
                    "sign the unsigned image",
                    *not_ff, not_ff - image.begin()));
  }
  PaddedImage out;
  out.bytes = image;
  out.bytes.resize(padded_size, 0xFF);
  check_mbedtls(mbedtls_sha256_ret(out.bytes.data(), out.bytes.size(), out.digest.data(), 0),
                "hashing the image");
  return out;
}

std::array<uint8_t, kRsa3072Bytes> rsa_pss_sign(const Key& key, const Digest& digest, Random& random) {
  mbedtls_rsa_context* rsa = mbedtls_pk_rsa(*key.pk());
  // PKCS#1 v2.1 with SHA-256 also makes MGF1 use SHA-256.
  mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
  std::array<uint8_t, kRsa3072Bytes> signature{};
  check_mbedtls(mbedtls_rsa_rsassa_pss_sign_ext(rsa, Random::generate, &random, MBEDTLS_MD_SHA256,
                                                static_cast<unsigned>(digest.size()), digest.data(),
                                                static_cast<int>(kPssSaltLength), signature.data()),
                "RSA-PSS signing");
  return signature;
}

void write_le(const mbedtls_mpi& value, uint8_t* out, size_t width) {
  std::vector<uint8_t> be(width);
  check_mbedtls(mbedtls_mpi_write_binary(&value, be.data(), width), "encoding an ECDSA signature");
  std::reverse_copy(be.begin(), be.end(), out);
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
};

// r and s go into the block least significant byte first, like the point.
void ecdsa_sign(const Key& key, const Digest& digest, Random& random, uint8_t* block) {
  const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(*key.pk());
  EcdsaSignature signature;
  check_mbedtls(mbedtls_ecp_group_copy(&signature.group, &ec->grp), "ECDSA signing");
  check_mbedtls(mbedtls_ecdsa_sign(&signature.group, &signature.r, &signature.s, &ec->d, digest.data(),
                                   digest.size(), Random::generate, &random),
                "ECDSA signing");
  write_le(signature.r, block + sbv2::kEcdsaROffset, kP256Bytes);
  write_le(signature.s, block + sbv2::kEcdsaSOffset, kP256Bytes);
}

// One 1216-byte block (layout in privota/secure_boot_v2.h): zeros except magic, version, digest, key,
// signature and CRC, as espsecure writes it.
std::array<uint8_t, sbv2::kBlockSize> sbv2_block(const Key& key, const Digest& digest, Random& random) {
  std::array<uint8_t, sbv2::kBlockSize> block{};
  const std::vector<uint8_t> public_key = key.sbv2_public_key();  // refuses other key types
  const bool rsa = key.is(KeyKind::kRsa3072);
  block[0] = sbv2::kMagic;
  block[1] = rsa ? sbv2::kVersionRsa : sbv2::kVersionEcdsa;
  // block[2] is espsecure's hash id for ECDSA: 0 = SHA-256, the only one P-256 uses.
  std::copy(digest.begin(), digest.end(), block.begin() + sbv2::kImageDigestOffset);
  std::copy(public_key.begin(), public_key.end(), block.begin() + sbv2::kKeyOffset);
  if (rsa) {
    const auto signature = rsa_pss_sign(key, digest, random);
    std::reverse_copy(signature.begin(), signature.end(), block.begin() + sbv2::kRsaSignatureOffset);
  } else {
    ecdsa_sign(key, digest, random, block.data());
  }
  sbv2::seal_block({block.data(), block.size()});
  return block;
}

struct Certificate {
  mbedtls_x509_crt crt;
  Certificate() { mbedtls_x509_crt_init(&crt); }
  ~Certificate() { mbedtls_x509_crt_free(&crt); }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
};

// Parses the UAC as the device will: one PEM certificate, its NUL inside the length.
void parse_uac(Certificate& cert, const std::string& pem) {
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
  if (!key.is_private())
    throw ToolError(fmt::format("'{}' holds only a public key; signing needs the private key", key.name()));
  if (!key.is(KeyKind::kRsa3072)) {
    throw ToolError(
        fmt::format("'{}' is an {} key; user-app signing keys are RSA-3072", key.name(), key.description()));
  }
}

// The new signatures must pass the same checks a device makes; anything else is a bug worth stopping for.
void self_check_sbv2(std::span<const uint8_t> sector, std::span<const Key> keys, const Digest& digest) {
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  uint8_t image_digest[32];
  std::copy(digest.begin(), digest.end(), image_digest);
  for (size_t i = 0; i < keys.size(); ++i) {
    KeyDigest trusted;
    const Digest key_digest = keys[i].sbv2_key_digest();
    std::copy(key_digest.begin(), key_digest.end(), trusted.bytes);
    const Status status = sbv2::verify_block({sector.data() + i * sbv2::kBlockSize, sbv2::kBlockSize},
                                             image_digest, {&trusted, 1}, sha, verifier);
    if (!status.is_ok())
      throw ToolError("internal error: the new signature block does not verify: " + describe(status));
  }
}

void self_check_user(std::span<const uint8_t> sector, const Key& key, const Digest& digest) {
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
  if (!status.is_ok()) {
    throw ToolError("internal error: the new user-app signature does not verify: " + describe(status));
  }
}

}  // namespace

std::vector<uint8_t> sign_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys) {
  if (keys.empty() || keys.size() > sbv2::kMaxBlocks) {
    throw ToolError(fmt::format("Secure Boot v2 takes 1 to 3 keys, not {}", keys.size()));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].is_private()) {
      throw ToolError(
          fmt::format("'{}' holds only a public key; signing needs the private key", keys[i].name()));
    }
    (void)keys[i].sbv2_public_key();  // refuses a key type Secure Boot v2 does not define, before any work
    for (size_t j = 0; j < i; ++j) {
      if (keys[i].same_public_key(keys[j])) {
        throw ToolError(fmt::format("'{}' and '{}' are the same key", keys[j].name(), keys[i].name()));
      }
    }
  }
  PaddedImage padded = pad_image(image);
  Random random;
  std::vector<uint8_t> sector(kSignatureSectorSize, 0xFF);
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto block = sbv2_block(keys[i], padded.digest, random);
    std::copy(block.begin(), block.end(), sector.begin() + static_cast<ptrdiff_t>(i * sbv2::kBlockSize));
  }
  self_check_sbv2(sector, keys, padded.digest);
  padded.bytes.insert(padded.bytes.end(), sector.begin(), sector.end());
  return std::move(padded.bytes);
}

std::vector<uint8_t> sign_user_app(const std::vector<uint8_t>& image, const Key& user_key,
                                   const std::string& uac_pem) {
  check_user_key(user_key);
  const size_t cert_len = uac_pem.size() + 1;  // the device's X.509 parser needs the NUL inside the length
  if (cert_len > user_sig::kMaxCertLen) {
    throw ToolError(
        fmt::format("the certificate is {} bytes with its NUL; the user-app signature sector holds at "
                    "most {}",
                    cert_len, user_sig::kMaxCertLen));
  }
  {
    Certificate cert;
    parse_uac(cert, uac_pem);
    if (mbedtls_pk_check_pair(&cert.crt.pk, user_key.pk()) != 0) {
      throw ToolError(
          fmt::format("the certificate is not for '{}': it carries another public key", user_key.name()));
    }
  }
  PaddedImage padded = pad_image(image);
  Random random;
  const auto signature = rsa_pss_sign(user_key, padded.digest, random);

  std::vector<uint8_t> sector(kSignatureSectorSize, 0xFF);
  sector[0] = user_sig::kMagic;
  sector[1] = user_sig::kVersion;
  sector[2] = 0;
  sector[3] = 0;
  std::copy(padded.digest.begin(), padded.digest.end(), sector.begin() + user_sig::kImageDigestOffset);
  // Big-endian, as the RSA operation produces it (unlike Secure Boot v2 blocks).
  std::copy(signature.begin(), signature.end(), sector.begin() + user_sig::kSignatureOffset);
  store_le32(sector.data() + user_sig::kCertLenOffset, static_cast<uint32_t>(cert_len));
  std::copy(uac_pem.begin(), uac_pem.end(), sector.begin() + user_sig::kCertOffset);
  sector[user_sig::kCertOffset + uac_pem.size()] = 0;
  std::fill(sector.begin() + user_sig::kZeroPadOffset, sector.begin() + user_sig::kCrcOffset, 0);
  user_sig::seal_sector({sector.data(), sector.size()});

  self_check_user(sector, user_key, padded.digest);
  padded.bytes.insert(padded.bytes.end(), sector.begin(), sector.end());
  return std::move(padded.bytes);
}

}  // namespace privota::tools
