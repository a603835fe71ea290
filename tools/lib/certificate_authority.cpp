#include "certificate_authority.h"

#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>
#include <mbedtls/md.h>
#include <mbedtls/platform.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "file_io.h"
#include "tool_error.h"
#include "x509_writer.h"

namespace privota::tools {
namespace {

struct Csr {
  mbedtls_x509_csr csr;
  Csr() { mbedtls_x509_csr_init(&csr); }
  ~Csr() { mbedtls_x509_csr_free(&csr); }
  Csr(const Csr&) = delete;
  Csr& operator=(const Csr&) = delete;
};

std::string dn_text(const mbedtls_x509_name& name) {
  char text[1024];
  const int n = mbedtls_x509_dn_gets(text, sizeof text, &name);
  return n < 0 ? std::string("(unreadable name)") : std::string(text, static_cast<size_t>(n));
}

// Copies a parsed name into a writer's name list, keeping each attribute's string type (PrintableString,
// UTF8String, IA5String) so the UAC's issuer is byte for byte the CA's subject. The writer emits its list
// back to front, so prepending keeps the order.
void copy_name(mbedtls_asn1_named_data** list, const mbedtls_x509_name& name) {
  mbedtls_asn1_free_named_data_list(list);
  for (const mbedtls_x509_name* cur = &name; cur != nullptr; cur = cur->next) {
    if (cur->oid.p == nullptr) continue;  // an empty name
    auto* node = static_cast<mbedtls_asn1_named_data*>(mbedtls_calloc(1, sizeof(mbedtls_asn1_named_data)));
    if (node == nullptr) throw std::bad_alloc();
    node->next = *list;
    *list = node;
    node->oid.tag = cur->oid.tag;
    node->val.tag = cur->val.tag;
    node->oid.p = static_cast<unsigned char*>(mbedtls_calloc(1, cur->oid.len));
    node->val.p = static_cast<unsigned char*>(mbedtls_calloc(1, cur->val.len + 1));
    if (node->oid.p == nullptr || node->val.p == nullptr) throw std::bad_alloc();
    node->oid.len = cur->oid.len;
    node->val.len = cur->val.len;
    std::memcpy(node->oid.p, cur->oid.p, cur->oid.len);
    std::memcpy(node->val.p, cur->val.p, cur->val.len);
  }
}

void set_subject(CertificateWriter& writer, const std::string& subject) {
  // mbedTLS takes text without any "attribute=value" as an empty name.
  if (mbedtls_x509write_crt_set_subject_name(writer.ctx(), subject.c_str()) != 0 ||
      writer.ctx()->subject == nullptr) {
    throw ToolError(fmt::format(
        "subject '{}' is not a distinguished name like 'CN=name, O=organization, C=DE'", subject));
  }
}

// `holder`: "'user.pem'" or "the CSR".
void require_rsa3072(const mbedtls_pk_context& pk, const std::string& holder, const char* role) {
  if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(&pk) != 3072) {
    const std::string type = mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA
                                 ? fmt::format("RSA-{}", mbedtls_pk_get_bitlen(&pk))
                                 : std::string(mbedtls_pk_get_name(&pk));
    throw ToolError(fmt::format("{} holds an {} key; {} keys must be RSA-3072", holder, type, role));
  }
}

// The signature a CSR carries proves that its sender holds the private key.
void verify_csr_signature(mbedtls_x509_csr& csr) {
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(csr.sig_md);
  unsigned char hash[MBEDTLS_MD_MAX_SIZE];
  if (md == nullptr || mbedtls_md(md, csr.cri.p, csr.cri.len, hash) != 0 ||
      mbedtls_pk_verify_ext(csr.sig_pk, csr.sig_opts, &csr.pk, csr.sig_md, hash, mbedtls_md_get_size(md),
                            csr.sig.p, csr.sig.len) != 0) {
    throw ToolError("the CSR's signature does not verify: it was not made with the key it carries");
  }
}

}  // namespace

CertificateAuthority CertificateAuthority::create(Key key, const std::string& subject, uint32_t days) {
  if (!key.is_private())
    throw ToolError(fmt::format("'{}' holds only a public key; a CA needs its private key", key.name()));
  require_rsa3072(*key.pk(), "'" + key.name() + "'", "CA");
  Random random;
  CertificateWriter writer;
  set_subject(writer, subject);
  check_mbedtls(mbedtls_x509write_crt_set_issuer_name(writer.ctx(), subject.c_str()), "CA issuer");
  mbedtls_x509write_crt_set_subject_key(writer.ctx(), key.pk());
  mbedtls_x509write_crt_set_issuer_key(writer.ctx(), key.pk());
  writer.set_common_fields(days, CertificateWriter::Start::kNow, random);
  // is_ca = 1 also marks the extension critical; -1 = no path length, as esp_ps_secure_boot_util writes it.
  check_mbedtls(mbedtls_x509write_crt_set_basic_constraints(writer.ctx(), 1, -1), "basicConstraints");
  std::string pem = writer.sign_pem(random);
  return CertificateAuthority(std::move(key), std::move(pem));
}

CertificateAuthority CertificateAuthority::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw ToolError(
        fmt::format("'{}' is not a CA directory (one holding {} and {}; make one with `privota ca new`)",
                    dir.string(), kCaKeyFile, kCaCertFile));
  }
  Key key = Key::load(dir / kCaKeyFile);
  std::string cert_pem = read_text_file(dir / kCaCertFile);
  const std::string cert_name = (dir / kCaCertFile).string();
  ParsedCertificate cert;
  parse_certificate(cert, cert_pem, cert_name);
  if (cert.crt.ca_istrue == 0) throw ToolError(fmt::format("'{}' is not a CA certificate", cert_name));
  if (!key.is_private() || mbedtls_pk_check_pair(&cert.crt.pk, key.pk()) != 0) {
    throw ToolError(fmt::format("'{}' is not the private key of '{}'", key.name(), cert_name));
  }
  return CertificateAuthority(std::move(key), std::move(cert_pem));
}

void check_ca_destination(const std::filesystem::path& dir, bool overwrite) {
  if (std::filesystem::exists(dir) && !std::filesystem::is_directory(dir)) {
    throw ToolError(fmt::format("'{}' exists and is not a directory", dir.string()));
  }
  if (!overwrite && std::filesystem::exists(dir) && !std::filesystem::is_empty(dir)) {
    throw ToolError(fmt::format("'{}' is not empty; use --force to write the CA there anyway", dir.string()));
  }
}

void CertificateAuthority::save(const std::filesystem::path& dir, bool overwrite) const {
  check_ca_destination(dir, overwrite);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw ToolError(fmt::format("cannot create '{}': {}", dir.string(), error.message()));
  write_secret_file({dir / kCaKeyFile, true, {}}, key_.private_pem());
  write_file_atomically(dir / kCaCertFile, std::vector<uint8_t>(cert_pem_.begin(), cert_pem_.end()));
}

namespace {

std::string issue_certificate(const Key& ca_key, const std::string& ca_cert_pem,
                              mbedtls_pk_context& subject_key, const mbedtls_x509_name* subject_name,
                              const std::optional<std::string>& subject, uint32_t days) {
  ParsedCertificate ca;
  parse_certificate(ca, ca_cert_pem, kCaCertFile);
  Random random;
  CertificateWriter writer;
  if (subject) {
    set_subject(writer, *subject);
  } else if (subject_name != nullptr) {
    copy_name(&writer.ctx()->subject, *subject_name);
  } else {
    set_subject(writer, kDefaultUserSubject);
  }
  copy_name(&writer.ctx()->issuer, ca.crt.subject);
  mbedtls_x509write_crt_set_subject_key(writer.ctx(), &subject_key);
  mbedtls_x509write_crt_set_issuer_key(writer.ctx(), ca_key.pk());
  writer.set_common_fields(days, CertificateWriter::Start::kNow, random);
  // Written critical, as esp_ps_secure_boot_util does.
  check_mbedtls(mbedtls_x509write_crt_set_key_usage(writer.ctx(), MBEDTLS_X509_KU_DIGITAL_SIGNATURE),
                "keyUsage");
  return writer.sign_pem(random);
}

}  // namespace

std::string CertificateAuthority::issue(const Key& subject_key, const std::optional<std::string>& subject,
                                        uint32_t days) {
  require_rsa3072(*subject_key.pk(), "'" + subject_key.name() + "'", "user-app");
  // Only the public half goes into the certificate; a copy keeps the caller's key untouched.
  Key public_key = Key::from_pem(subject_key.public_pem(), subject_key.name());
  return issue_certificate(key_, cert_pem_, *public_key.pk(), nullptr, subject, days);
}

std::string CertificateAuthority::issue_for_csr(const std::string& csr_pem,
                                                const std::optional<std::string>& subject, uint32_t days) {
  Csr csr;
  if (csr_pem.find('\0') != std::string::npos ||
      mbedtls_x509_csr_parse(&csr.csr, reinterpret_cast<const unsigned char*>(csr_pem.c_str()),
                             csr_pem.size() + 1) != 0) {
    throw ToolError("the CSR is not a PEM PKCS#10 certificate request");
  }
  verify_csr_signature(csr.csr);
  require_rsa3072(csr.csr.pk, "the CSR", "user-app");
  return issue_certificate(key_, cert_pem_, csr.csr.pk, &csr.csr.subject, subject, days);
}

std::string certificate_subject(const std::string& pem) {
  ParsedCertificate cert;
  parse_certificate(cert, pem, "certificate");
  return dn_text(cert.crt.subject);
}

std::string certificate_issuer(const std::string& pem) {
  ParsedCertificate cert;
  parse_certificate(cert, pem, "certificate");
  return dn_text(cert.crt.issuer);
}

}  // namespace privota::tools
