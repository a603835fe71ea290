// Signing keys for the tools: PEM files in the formats Espressif's tools use (PKCS#1 "RSA PRIVATE KEY", SEC1
// "EC PRIVATE KEY", SubjectPublicKeyInfo "PUBLIC KEY"), generation, and the Secure Boot v2 key digest.
//
// The key digest is what a device trusts (eFuse on a chip, the protected app's configuration here): SHA-256
// of the public key exactly as a signature block stores it (privota/secure_boot_v2.h):
//   RSA-3072:   n (384 B LE) | e (u32 LE) | rinv = 2^6144 mod n (384 B LE) | mdash = -n^-1 mod 2^32 (u32 LE)
//   ECDSA P-256: curve id 2 | X (32 B LE) | Y (32 B LE)
// (espsecure.py digest_sbv2_public_key; checked against tests/data/signature/*.digest.bin.)
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "file_io.h"

namespace privota::tools {

// Random bytes for key generation, signatures and serial numbers: CTR-DRBG seeded from the OS entropy source.
class Random {
 public:
  Random();  // throws ToolError when the entropy source fails
  ~Random();
  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;

  // The mbedTLS callback pair: pass `Random::generate, &random` wherever mbedTLS asks for f_rng, p_rng.
  static int generate(void* self, unsigned char* out, size_t size);
  std::vector<uint8_t> bytes(size_t size);

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

enum class KeyKind { kRsa3072, kEcdsaP256 };

class Key {
 public:
  // Parses a private key, or else a public key, from PEM text; `name` (usually the file name) goes into
  // errors. Encrypted keys are refused. Throws ToolError.
  static Key from_pem(const std::string& pem, const std::string& name);
  static Key load(const std::filesystem::path& path);
  // A new key; RSA keys get e = 65537 as espsecure's do. RSA-3072 takes a few seconds.
  static Key generate(KeyKind kind, Random& random);

  Key(Key&&) noexcept = default;
  Key& operator=(Key&&) noexcept = default;
  ~Key();

  bool is_private() const { return private_; }
  bool is_rsa() const;
  bool is_ec() const;
  size_t bits() const;
  bool is(KeyKind kind) const;
  // "RSA-3072", "ECDSA P-256", "RSA-2048", "ECDSA secp384r1", ...
  std::string description() const;

  std::string private_pem() const;  // throws ToolError for a public key
  std::string public_pem() const;

  // The public key as a Secure Boot v2 block stores it from offset 36: 776 bytes for RSA-3072, 65 for P-256.
  // Throws ToolError for any other key (Secure Boot v2 defines no other).
  std::vector<uint8_t> sbv2_public_key() const;
  // SHA-256 of sbv2_public_key(): the digest a device trusts.
  std::array<uint8_t, 32> sbv2_key_digest() const;

  // An RSA key's public numbers: the modulus big-endian (bits() / 8 bytes) and the exponent. Throws ToolError
  // for other keys or an exponent wider than 32 bits (the width of Espressif's field).
  struct RsaPublic {
    std::vector<uint8_t> modulus;
    uint32_t exponent = 0;
  };
  RsaPublic rsa_public() const;

  // Whether `other` holds the same public key.
  bool same_public_key(const Key& other) const;

  mbedtls_pk_context* pk() const { return pk_.get(); }
  const std::string& name() const { return name_; }

 private:
  struct PkDeleter {
    void operator()(mbedtls_pk_context* pk) const;
  };
  Key();

  std::unique_ptr<mbedtls_pk_context, PkDeleter> pk_;  // a pointer: mbedTLS contexts must not be moved
  bool private_ = false;
  std::string name_;
};

// Parses "rsa3072" / "ecdsa-p256".
KeyKind key_kind_by_name(const std::string& name);

// Writes a secret (a private key) readable by its owner only (mode 0600), atomically. Refuses to replace an
// existing file unless `out.force`, and never over one of the command's inputs (OutputFile). Throws
// ToolError.
void write_secret_file(const OutputFile& out, const std::string& text);

// Bytes from hex text (the reverse of image_report.h's hex()); throws ToolError naming `what` on bad input.
std::vector<uint8_t> from_hex(const std::string& text, const std::string& what);

}  // namespace privota::tools
