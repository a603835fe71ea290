#include "fleet_ca.h"

#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

#include <fmt/format.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include "file_io.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

constexpr const char* kKeyFile = "key.pem";
constexpr const char* kCertFile = "cert.pem";
constexpr size_t kSerialBytes = 20;  // RFC 5280's maximum; the top bit stays clear
constexpr size_t kCertBufferSize = 4096;

void check_mbedtls(int rc, const std::string& doing) {
  if (rc >= 0) return;
  char text[160];
  mbedtls_strerror(rc, text, sizeof text);
  throw ToolError(fmt::format("{}: {}", doing, text));
}

struct Crt {
  mbedtls_x509_crt crt;
  Crt() { mbedtls_x509_crt_init(&crt); }
  ~Crt() { mbedtls_x509_crt_free(&crt); }
  Crt(const Crt&) = delete;
  Crt& operator=(const Crt&) = delete;
};

struct CertWriter {
  mbedtls_x509write_cert ctx;
  mbedtls_mpi serial;
  CertWriter() {
    mbedtls_x509write_crt_init(&ctx);
    mbedtls_mpi_init(&serial);
  }
  ~CertWriter() {
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&ctx);
  }
  CertWriter(const CertWriter&) = delete;
  CertWriter& operator=(const CertWriter&) = delete;
};

void parse_certificate(Crt& out, const std::string& pem, const std::string& name) {
  // mbedTLS reads PEM only with the terminating NUL inside the length.
  if (pem.find('\0') != std::string::npos ||
      mbedtls_x509_crt_parse(&out.crt, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1) !=
          0) {
    throw ToolError(fmt::format("'{}' is not a PEM X.509 certificate", name));
  }
}

std::string x509_time(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc);
  return text;
}

void set_common_fields(CertWriter& writer, uint32_t days, Random& random) {
  if (days == 0 || days > 100 * 366)
    throw ToolError(fmt::format("validity of {} days is out of range", days));
  std::vector<uint8_t> serial = random.bytes(kSerialBytes);
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7F) | 0x40);
  check_mbedtls(mbedtls_mpi_read_binary(&writer.serial, serial.data(), serial.size()), "certificate serial");
  check_mbedtls(mbedtls_x509write_crt_set_serial(&writer.ctx, &writer.serial), "certificate serial");
  // An hour back, so a client whose clock is a little behind still accepts a certificate made just now.
  const auto now = std::chrono::system_clock::now();
  check_mbedtls(
      mbedtls_x509write_crt_set_validity(&writer.ctx, x509_time(now - std::chrono::hours(1)).c_str(),
                                         x509_time(now + std::chrono::hours(24) * days).c_str()),
      "certificate validity");
  mbedtls_x509write_crt_set_version(&writer.ctx, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&writer.ctx, MBEDTLS_MD_SHA256);
}

std::string write_pem(CertWriter& writer, Random& random) {
  std::vector<unsigned char> buffer(kCertBufferSize);
  check_mbedtls(
      mbedtls_x509write_crt_pem(&writer.ctx, buffer.data(), buffer.size(), Random::generate, &random),
      "signing the certificate");
  return reinterpret_cast<const char*>(buffer.data());
}

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
void set_loopback_alt_names(CertWriter& writer) {
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
  check_mbedtls(mbedtls_x509write_crt_set_extension(&writer.ctx, MBEDTLS_OID_SUBJECT_ALT_NAME,
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
  CertWriter writer;
  check_mbedtls(mbedtls_x509write_crt_set_subject_name(&writer.ctx, kFleetCaSubject), "CA subject");
  check_mbedtls(mbedtls_x509write_crt_set_issuer_name(&writer.ctx, kFleetCaSubject), "CA issuer");
  mbedtls_x509write_crt_set_subject_key(&writer.ctx, key.pk());
  mbedtls_x509write_crt_set_issuer_key(&writer.ctx, key.pk());
  set_common_fields(writer, days, random);
  check_mbedtls(mbedtls_x509write_crt_set_basic_constraints(&writer.ctx, 1, 0), "basicConstraints");
  check_mbedtls(mbedtls_x509write_crt_set_key_usage(&writer.ctx, MBEDTLS_X509_KU_KEY_CERT_SIGN), "keyUsage");
  check_mbedtls(mbedtls_x509write_crt_set_subject_key_identifier(&writer.ctx), "subjectKeyIdentifier");
  check_mbedtls(mbedtls_x509write_crt_set_authority_key_identifier(&writer.ctx), "authorityKeyIdentifier");
  return FleetCa(Identity{key.private_pem(), write_pem(writer, random)});
}

FleetCa FleetCa::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw ToolError(
        fmt::format("'{}' is not a fleet CA directory (make one with `privota fleet ca new`)", dir.string()));
  }
  Identity identity = Identity::load(dir);
  const Key key = Key::from_pem(identity.key_pem, (dir / kKeyFile).string());
  Crt cert;
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
  CertWriter writer;
  check_mbedtls(mbedtls_x509write_crt_set_subject_name(&writer.ctx, ("CN=" + common_name).c_str()),
                "subject");
  check_mbedtls(mbedtls_x509write_crt_set_issuer_name(&writer.ctx, kFleetCaSubject), "issuer");
  mbedtls_x509write_crt_set_subject_key(&writer.ctx, key.pk());
  mbedtls_x509write_crt_set_issuer_key(&writer.ctx, ca_key.pk());
  set_common_fields(writer, days, random);
  check_mbedtls(mbedtls_x509write_crt_set_key_usage(
                    &writer.ctx, MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT),
                "keyUsage");
  check_mbedtls(mbedtls_x509write_crt_set_subject_key_identifier(&writer.ctx), "subjectKeyIdentifier");
  check_mbedtls(mbedtls_x509write_crt_set_authority_key_identifier(&writer.ctx), "authorityKeyIdentifier");
  if (broker) set_loopback_alt_names(writer);
  return {key.private_pem(), write_pem(writer, random)};
}

}  // namespace

Identity FleetCa::issue_client(const std::string& common_name, uint32_t days) const {
  return issue(identity_, common_name, false, days);
}

Identity FleetCa::issue_broker(uint32_t days) const {
  return issue(identity_, kBrokerCommonName, true, days);
}

std::string certificate_common_name(const std::string& pem) {
  Crt cert;
  parse_certificate(cert, pem, "certificate");
  for (const mbedtls_x509_name* name = &cert.crt.subject; name != nullptr; name = name->next) {
    if (name->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
      return {reinterpret_cast<const char*>(name->val.p), name->val.len};
    }
  }
  throw ToolError("the certificate has no common name");
}

}  // namespace privota::tools
