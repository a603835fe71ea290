// Public-key checks the core needs, as an interface a port implements (mbedTLS on the host, the ROM or a
// hardware RSA/ECC engine on a chip). All big numbers are big-endian here; format code converts from the
// little-endian order Espressif's blocks store.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/span.h"
#include "privota/status.h"

namespace privota {

constexpr size_t kRsa3072Bytes = 384;
constexpr size_t kP256Bytes = 32;
constexpr size_t kSha256Bytes = 32;

class SignatureVerifier {
 public:
  // RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over an already computed SHA-256 digest (the
  // parameters of Secure Boot v2 and of ESP-PrivSep user-app blocks).
  virtual Status verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                                       const uint8_t (&digest)[kSha256Bytes], ConstByteSpan signature) = 0;
  // ECDSA on NIST P-256 over an already computed SHA-256 digest.
  virtual Status verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes], const uint8_t (&y)[kP256Bytes],
                                   const uint8_t (&digest)[kSha256Bytes], const uint8_t (&r)[kP256Bytes],
                                   const uint8_t (&s)[kP256Bytes]) = 0;

 protected:
  ~SignatureVerifier() = default;
};

// The public key a verified certificate carries.
struct CertifiedRsaKey {
  uint8_t modulus[kRsa3072Bytes] = {};  // big-endian, right-aligned in the first modulus_len bytes
  size_t modulus_len = 0;               // bytes of the modulus (384 for RSA-3072)
  uint32_t exponent = 0;
};

class CertificateVerifier {
 public:
  // Checks that `pem` (one PEM certificate; a trailing NUL is allowed) is signed by the CA the device trusts
  // and carries an RSA key; returns that key. Validity dates are not judged here (see docs/signing.md).
  virtual Status verify_certificate(ConstByteSpan pem, CertifiedRsaKey& key) = 0;

 protected:
  ~CertificateVerifier() = default;
};

}  // namespace privota
