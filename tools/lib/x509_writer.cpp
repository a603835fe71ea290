#include "x509_writer.h"

#include <chrono>
#include <ctime>
#include <vector>

#include <fmt/format.h>
#include <mbedtls/error.h>

#include "tool_error.h"

namespace privota::tools {
namespace {

constexpr size_t kSerialBytes = 20;       // RFC 5280's maximum; the top bit stays clear (positive, 159 bits)
constexpr size_t kCertBufferSize = 8192;  // an RSA-3072 certificate PEM is under 2 KB
constexpr uint32_t kMaxValidityDays = 100 * 366;

std::string x509_time(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc);
  return text;
}

}  // namespace

void check_mbedtls(int rc, const std::string& doing) {
  if (rc >= 0) return;
  char text[160];
  mbedtls_strerror(rc, text, sizeof text);
  throw ToolError(fmt::format("{}: {}", doing, text));
}

void parse_certificate(ParsedCertificate& out, const std::string& pem, const std::string& name) {
  // mbedTLS reads PEM only with the terminating NUL inside the length.
  if (pem.find('\0') != std::string::npos ||
      mbedtls_x509_crt_parse(&out.crt, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1) !=
          0) {
    throw ToolError(fmt::format("'{}' is not a PEM X.509 certificate", name));
  }
}

void CertificateWriter::set_common_fields(uint32_t days, Start start, Random& random) {
  if (days == 0 || days > kMaxValidityDays) {
    throw ToolError(fmt::format("validity of {} days is out of range (1 to {})", days, kMaxValidityDays));
  }
  std::vector<uint8_t> serial = random.bytes(kSerialBytes);
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7F) | 0x40);
  check_mbedtls(mbedtls_mpi_read_binary(&serial_, serial.data(), serial.size()), "certificate serial");
  check_mbedtls(mbedtls_x509write_crt_set_serial(&ctx_, &serial_), "certificate serial");
  const auto now = std::chrono::system_clock::now();
  const auto not_before = start == Start::kHourAgo ? now - std::chrono::hours(1) : now;
  check_mbedtls(mbedtls_x509write_crt_set_validity(&ctx_, x509_time(not_before).c_str(),
                                                   x509_time(now + std::chrono::hours(24) * days).c_str()),
                "certificate validity");
  mbedtls_x509write_crt_set_version(&ctx_, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&ctx_, MBEDTLS_MD_SHA256);
}

std::string CertificateWriter::sign_pem(Random& random) {
  std::vector<unsigned char> buffer(kCertBufferSize);
  check_mbedtls(mbedtls_x509write_crt_pem(&ctx_, buffer.data(), buffer.size(), Random::generate, &random),
                "signing the certificate");
  return reinterpret_cast<const char*>(buffer.data());
}

}  // namespace privota::tools
