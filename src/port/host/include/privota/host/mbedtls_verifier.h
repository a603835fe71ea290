// Signature and certificate checks for the core, backed by mbedTLS.
#pragma once

#include <string>

#include <mbedtls/x509_crt.h>

#include "privota/result.h"
#include "privota/signature_verifier.h"

namespace privota::host {

class MbedSignatureVerifier final : public SignatureVerifier {
 public:
  Status verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                               const uint8_t (&digest)[kSha256Bytes], ConstByteSpan signature) override;
  Status verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes], const uint8_t (&y)[kP256Bytes],
                           const uint8_t (&digest)[kSha256Bytes], const uint8_t (&r)[kP256Bytes],
                           const uint8_t (&s)[kP256Bytes]) override;
};

// Trusts exactly one CA certificate (the protected app owner's user-app CA).
class MbedCertificateVerifier final : public CertificateVerifier {
 public:
  // `ca_pem`: the CA certificate in PEM. Fails if it does not parse or is not a CA.
  static Result<MbedCertificateVerifier> from_pem(const std::string& ca_pem);

  MbedCertificateVerifier();
  MbedCertificateVerifier(MbedCertificateVerifier&& other) noexcept;
  MbedCertificateVerifier& operator=(MbedCertificateVerifier&& other) noexcept;
  MbedCertificateVerifier(const MbedCertificateVerifier&) = delete;
  MbedCertificateVerifier& operator=(const MbedCertificateVerifier&) = delete;
  ~MbedCertificateVerifier();

  Status verify_certificate(ConstByteSpan pem, CertifiedRsaKey& key) override;

 private:
  mbedtls_x509_crt* ca_ = nullptr;  // owned; a pointer so that moving never moves mbedTLS's internal lists
};

}  // namespace privota::host
