// What the tools' two certificate authorities share when they write X.509: the user-app CA
// (certificate_authority.h, vouches for code) and the fleet CA (fleet_ca.h, vouches for network identities).
// mbedTLS's C structures are wrapped so that every path frees what mbedTLS allocated.
#pragma once

#include <cstdint>
#include <string>

#include <mbedtls/x509_crt.h>

#include "key_file.h"

namespace privota::tools {

// Throws ToolError("<doing>: <mbedTLS's text>") for a negative mbedTLS return (ASN.1 writers return lengths).
void check_mbedtls(int rc, const std::string& doing);

struct ParsedCertificate {
  mbedtls_x509_crt crt;
  ParsedCertificate() { mbedtls_x509_crt_init(&crt); }
  ~ParsedCertificate() { mbedtls_x509_crt_free(&crt); }
  ParsedCertificate(const ParsedCertificate&) = delete;
  ParsedCertificate& operator=(const ParsedCertificate&) = delete;
};

// Parses the first certificate of `pem`; throws ToolError naming `name` if it is not one.
void parse_certificate(ParsedCertificate& out, const std::string& pem, const std::string& name);

class CertificateWriter {
 public:
  CertificateWriter() {
    mbedtls_x509write_crt_init(&ctx_);
    mbedtls_mpi_init(&serial_);
  }
  ~CertificateWriter() {
    mbedtls_mpi_free(&serial_);
    mbedtls_x509write_crt_free(&ctx_);
  }
  CertificateWriter(const CertificateWriter&) = delete;
  CertificateWriter& operator=(const CertificateWriter&) = delete;

  // Where validity starts: the user-app CA's profile starts it now (as esp_ps_secure_boot_util does); the
  // fleet's an hour back, so a TLS peer whose clock is a little behind accepts a certificate made just now.
  enum class Start { kNow, kHourAgo };

  // Serial (random, 159 bits, positive), validity of `days` (1 to 100 years), version 3, SHA-256: what every
  // certificate here shares. Throws ToolError for a validity out of range.
  void set_common_fields(uint32_t days, Start start, Random& random);
  // Signs with the issuer key set on ctx() and returns the PEM.
  std::string sign_pem(Random& random);

  mbedtls_x509write_cert* ctx() { return &ctx_; }

 private:
  mbedtls_x509write_cert ctx_;
  mbedtls_mpi serial_;
};

}  // namespace privota::tools
