// The user-app CA of ESP Privilege Separation: the protected app's owner holds an RSA-3072 CA and issues each
// user-app developer a certificate (UAC) for their RSA-3072 signing key; the device accepts a user app whose
// signature sector carries a UAC that chains to the CA (privota/user_app_signature.h).
//
// Certificates have the same profile as esp-privilege-separation's esp_ps_secure_boot_util.py makes them:
//   CA:  X.509 v3, self-signed, SHA-256 with RSA, random serial (159 bits), only basicConstraints CA:TRUE
//        (critical, no path length);
//   UAC: X.509 v3, issuer = the CA's subject (copied with its string types), SHA-256 with RSA, random serial,
//        only keyUsage digitalSignature (critical).
// Validity runs from now for the given number of days (devices do not check dates; docs/signing.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "key_file.h"

namespace privota::tools {

constexpr const char* kCaKeyFile = "ca_key.pem";
constexpr const char* kCaCertFile = "ca_cert.pem";
constexpr const char* kDefaultCaSubject = "CN=privota user-app CA";
constexpr const char* kDefaultUserSubject = "CN=privota user app";
constexpr uint32_t kDefaultValidityDays = 3650;

class CertificateAuthority {
 public:
  // A new CA around `key` (an RSA-3072 private key). `subject` is a distinguished name such as
  // "CN=Acme user-app CA, O=Acme, C=DE". Throws ToolError.
  static CertificateAuthority create(Key key, const std::string& subject, uint32_t days);
  // DIR/ca_key.pem and DIR/ca_cert.pem; checks that the key belongs to the certificate and that it is a CA.
  static CertificateAuthority load(const std::filesystem::path& dir);

  // Writes DIR/ca_key.pem (mode 0600) and DIR/ca_cert.pem, creating DIR. Refuses a DIR that exists and is not
  // empty unless `overwrite`.
  void save(const std::filesystem::path& dir, bool overwrite) const;

  // A UAC for `subject_key` (RSA-3072; only its public half is used); subject default kDefaultUserSubject.
  std::string issue(const Key& subject_key, const std::optional<std::string>& subject, uint32_t days);
  // A UAC for the key in a PKCS#10 request (PEM), after checking the request's self-signature; the subject is
  // the request's unless `subject` is given.
  std::string issue_for_csr(const std::string& csr_pem, const std::optional<std::string>& subject,
                            uint32_t days);

  const Key& key() const { return key_; }
  const std::string& certificate_pem() const { return cert_pem_; }

 private:
  CertificateAuthority(Key key, std::string cert_pem)
      : key_(std::move(key)), cert_pem_(std::move(cert_pem)) {}

  Key key_;
  std::string cert_pem_;
};

// Throws ToolError unless save(dir, overwrite) may write there: lets a caller refuse before generating a key.
void check_ca_destination(const std::filesystem::path& dir, bool overwrite);

// The subject of the (first) certificate in `pem`, e.g. "C=US, O=privota test, CN=privota user-app
// developer". Throws ToolError if it does not parse.
std::string certificate_subject(const std::string& pem);
// Its issuer, the same way.
std::string certificate_issuer(const std::string& pem);

}  // namespace privota::tools
