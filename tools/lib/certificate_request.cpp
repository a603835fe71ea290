#include "certificate_request.h"

#include <vector>

#include <fmt/format.h>
#include <mbedtls/x509_csr.h>

#include "tool_error.h"
#include "x509_writer.h"

namespace privota::tools {
namespace {

constexpr size_t kCsrBufferSize = 4096;  // an RSA-3072 request PEM is under 2 KB

struct CsrWriter {
  mbedtls_x509write_csr ctx;
  CsrWriter() { mbedtls_x509write_csr_init(&ctx); }
  ~CsrWriter() { mbedtls_x509write_csr_free(&ctx); }
  CsrWriter(const CsrWriter&) = delete;
  CsrWriter& operator=(const CsrWriter&) = delete;
};

}  // namespace

std::string make_user_csr(const Key& key, const std::string& subject) {
  if (!key.is_private()) {
    throw ToolError(
        fmt::format("'{}' holds only a public key; a request is signed with the private key", key.name()));
  }
  if (!key.is(KeyKind::kRsa3072)) {
    throw ToolError(
        fmt::format("'{}' holds an {} key; user-app keys must be RSA-3072", key.name(), key.description()));
  }
  CsrWriter writer;
  // mbedTLS takes text without any "attribute=value" as an empty name.
  if (mbedtls_x509write_csr_set_subject_name(&writer.ctx, subject.c_str()) != 0 ||
      writer.ctx.subject == nullptr) {
    throw ToolError(fmt::format(
        "subject '{}' is not a distinguished name like 'CN=name, O=organization, C=DE'", subject));
  }
  mbedtls_x509write_csr_set_key(&writer.ctx, key.pk());
  mbedtls_x509write_csr_set_md_alg(&writer.ctx, MBEDTLS_MD_SHA256);
  Random random;
  std::vector<unsigned char> pem(kCsrBufferSize);
  check_mbedtls(mbedtls_x509write_csr_pem(&writer.ctx, pem.data(), pem.size(), Random::generate, &random),
                "writing the request");
  return reinterpret_cast<const char*>(pem.data());
}

}  // namespace privota::tools
