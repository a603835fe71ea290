#include "fleet_ca.h"

#include <cstring>

#include <fmt/format.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include "file_io.h"
#include "tool_error.h"
#include "x509_writer.h"

namespace privota::tools {
namespace {

constexpr const char* kKeyFile = "key.pem";
constexpr const char* kCertFile = "cert.pem";
// One GeneralName, written backwards as mbedTLS's ASN.1 writer does; returns its length.
int write_general_name(unsigned char** p, unsigned char* start, int tag, const void* value, size_t size) {
  int length = mbedtls_asn1_write_raw_buffer(p, start, static_cast<const unsigned char*>(value), size);
  if (length < 0) return length;
  int rc = mbedtls_asn1_write_len(p, start, static_cast<size_t>(length));
  if (rc < 0) return rc;
  length += rc;
  rc = mbedtls_asn1_write_tag(p, start, static_cast<unsigned char>(MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag));
  return rc < 0 ? rc : length + rc;
}

// subjectAltName = SEQUENCE { [2] dNSName "localhost", [7] iPAddress 127.0.0.1 } (RFC 5280 4.2.1.6).
// mbedTLS 2.28 has no writer for it, so the DER is assembled with its ASN.1 primitives.
void set_loopback_alt_names(CertificateWriter& writer) {
  unsigned char buffer[64];
  unsigned char* p = buffer + sizeof buffer;
  const unsigned char ip[4] = {127, 0, 0, 1};
  const char dns[] = "localhost";
  int length = 0;
  int rc = write_general_name(&p, buffer, 7, ip, sizeof ip);
  check_mbedtls(rc, "subjectAltName");
  length += rc;
  rc = write_general_name(&p, buffer, 2, dns, sizeof dns - 1);
  check_mbedtls(rc, "subjectAltName");
  length += rc;
  rc = mbedtls_asn1_write_len(&p, buffer, static_cast<size_t>(length));
  check_mbedtls(rc, "subjectAltName");
  length += rc;
  rc = mbedtls_asn1_write_tag(&p, buffer, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  check_mbedtls(rc, "subjectAltName");
  length += rc;
  check_mbedtls(mbedtls_x509write_crt_set_extension(writer.ctx(), MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
                                                    static_cast<size_t>(length)),
                "subjectAltName");
}

void check_common_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.find_first_of(",=+\\\"<>;#/") != std::string::npos) {
    throw ToolError(fmt::format("'{}' cannot be a certificate common name here", name));
  }
}

}  // namespace

void Identity::save(const std::filesystem::path& dir, bool overwrite) const {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw ToolError(fmt::format("cannot create '{}': {}", dir.string(), error.message()));
  if (!overwrite && std::filesystem::exists(dir / kCertFile)) {
    throw ToolError(
        fmt::format("'{}' already exists; use --force to replace it", (dir / kCertFile).string()));
  }
  write_secret_file({dir / kKeyFile, overwrite, {}}, key_pem);
  write_file_atomically(dir / kCertFile, {cert_pem.begin(), cert_pem.end()});
}

Identity Identity::load(const std::filesystem::path& dir) {
  return {read_text_file(dir / kKeyFile), read_text_file(dir / kCertFile)};
}

FleetCa FleetCa::create(uint32_t days) {
  Random random;
  Key key = Key::generate(KeyKind::kEcdsaP256, random);
  CertificateWriter writer;
  check_mbedtls(mbedtls_x509write_crt_set_subject_name(writer.ctx(), kFleetCaSubject), "CA subject");
  check_mbedtls(mbedtls_x509write_crt_set_issuer_name(writer.ctx(), kFleetCaSubject), "CA issuer");
  mbedtls_x509write_crt_set_subject_key(writer.ctx(), key.pk());
  mbedtls_x509write_crt_set_issuer_key(writer.ctx(), key.pk());
  writer.set_common_fields(days, CertificateWriter::Start::kHourAgo, random);
  check_mbedtls(mbedtls_x509write_crt_set_basic_constraints(writer.ctx(), 1, 0), "basicConstraints");
  check_mbedtls(mbedtls_x509write_crt_set_key_usage(writer.ctx(), MBEDTLS_X509_KU_KEY_CERT_SIGN), "keyUsage");
  check_mbedtls(mbedtls_x509write_crt_set_subject_key_identifier(writer.ctx()), "subjectKeyIdentifier");
  check_mbedtls(mbedtls_x509write_crt_set_authority_key_identifier(writer.ctx()), "authorityKeyIdentifier");
  return FleetCa(Identity{key.private_pem(), writer.sign_pem(random)});
}

FleetCa FleetCa::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw ToolError(
        fmt::format("'{}' is not a fleet CA directory (make one with `privota fleet ca new`)", dir.string()));
  }
  Identity identity = Identity::load(dir);
  const Key key = Key::from_pem(identity.key_pem, (dir / kKeyFile).string());
  ParsedCertificate cert;
  parse_certificate(cert, identity.cert_pem, (dir / kCertFile).string());
  if (cert.crt.ca_istrue == 0 || !key.is_private() || mbedtls_pk_check_pair(&cert.crt.pk, key.pk()) != 0) {
    throw ToolError(fmt::format("'{}' does not hold a CA certificate and its private key", dir.string()));
  }
  return FleetCa(std::move(identity));
}

namespace {

Identity issue(const Identity& ca_identity, const std::string& common_name, bool broker, uint32_t days) {
  check_common_name(common_name);
  Random random;
  const Key ca_key = Key::from_pem(ca_identity.key_pem, "fleet CA key");
  Key key = Key::generate(KeyKind::kEcdsaP256, random);
  CertificateWriter writer;
  check_mbedtls(mbedtls_x509write_crt_set_subject_name(writer.ctx(), ("CN=" + common_name).c_str()),
                "subject");
  check_mbedtls(mbedtls_x509write_crt_set_issuer_name(writer.ctx(), kFleetCaSubject), "issuer");
  mbedtls_x509write_crt_set_subject_key(writer.ctx(), key.pk());
  mbedtls_x509write_crt_set_issuer_key(writer.ctx(), ca_key.pk());
  writer.set_common_fields(days, CertificateWriter::Start::kHourAgo, random);
  check_mbedtls(mbedtls_x509write_crt_set_key_usage(
                    writer.ctx(), MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT),
                "keyUsage");
  check_mbedtls(mbedtls_x509write_crt_set_subject_key_identifier(writer.ctx()), "subjectKeyIdentifier");
  check_mbedtls(mbedtls_x509write_crt_set_authority_key_identifier(writer.ctx()), "authorityKeyIdentifier");
  if (broker) set_loopback_alt_names(writer);
  return {key.private_pem(), writer.sign_pem(random)};
}

}  // namespace

Identity FleetCa::issue_client(const std::string& common_name, uint32_t days) const {
  return issue(identity_, common_name, false, days);
}

Identity FleetCa::issue_broker(uint32_t days) const {
  return issue(identity_, kBrokerCommonName, true, days);
}

std::string certificate_common_name(const std::string& pem) {
  ParsedCertificate cert;
  parse_certificate(cert, pem, "certificate");
  for (const mbedtls_x509_name* name = &cert.crt.subject; name != nullptr; name = name->next) {
    if (name->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
      return {reinterpret_cast<const char*>(name->val.p), name->val.len};
    }
  }
  throw ToolError("the certificate has no common name");
}

}  // namespace privota::tools
