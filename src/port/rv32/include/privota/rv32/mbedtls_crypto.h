// The core's crypto interfaces on rv32, backed by mbedTLS 2.28 built from Debian's source package
// (src/port/rv32/mbedtls). The same calls as the host port (src/port/host/mbedtls_*.cpp), without the STL
// or a libc heap: mbedTLS allocates from one static buffer (init_crypto_heap).
#pragma once

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "privota/digest.h"
#include "privota/signature_verifier.h"

namespace privota::rv32 {

// Hands mbedTLS its heap: a static buffer of the program's. Call once before any other crypto call.
void init_crypto_heap(uint8_t* buffer, size_t size);

class MbedSha256 final : public Sha256 {
 public:
  MbedSha256();
  void begin() override;
  void update(ConstByteSpan data) override;
  void finish(uint8_t (&digest)[kDigestSize]) override;
  void peek(uint8_t (&digest)[kDigestSize]) override;

 private:
  mbedtls_sha256_context context_;
};

class MbedMd5 final : public Md5 {
 public:
  MbedMd5();
  void begin() override;
  void update(ConstByteSpan data) override;
  void finish(uint8_t (&digest)[kDigestSize]) override;

 private:
  mbedtls_md5_context context_;
};

class MbedSignatureVerifier final : public SignatureVerifier {
 public:
  Status verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                               const uint8_t (&digest)[kSha256Bytes], ConstByteSpan signature) override;
  Status verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes], const uint8_t (&y)[kP256Bytes],
                           const uint8_t (&digest)[kSha256Bytes], const uint8_t (&r)[kP256Bytes],
                           const uint8_t (&s)[kP256Bytes]) override;
};

// Trusts one CA, given as PEM (NUL-terminated or not). Lives as long as the firmware: no destructor.
class MbedCertificateVerifier final : public CertificateVerifier {
 public:
  Status load_ca(ConstByteSpan ca_pem);
  Status verify_certificate(ConstByteSpan pem, CertifiedRsaKey& key) override;

 private:
  mbedtls_x509_crt ca_;
  bool loaded_ = false;
};

}  // namespace privota::rv32
