// The floor for boot-time verification, for callgrind: bare mbedTLS doing only what any check of a signed
// image must, SHA-256 of the padded image and one RSA-3072-PSS verification of the signature in its sector
// (user-app layout, privota/user_app_signature.h) with the developer's key. The key is parsed outside
// privota_bench_measured (what callgrind counts); no image format, no certificate.
//
// Usage: privota-bench-verify-floor SIGNED_IMAGE DEVELOPER_KEY.pem
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

constexpr size_t kSector = 4096;
constexpr size_t kSignatureOffset = 36;  // in the 0xB7 sector

std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" __attribute__((noinline)) int privota_bench_measured(const unsigned char* image, size_t size,
                                                                mbedtls_rsa_context* rsa) {
  unsigned char digest[32];
  if (mbedtls_sha256_ret(image, size - kSector, digest, 0) != 0) return 1;
  const unsigned char* signature = image + size - kSector + kSignatureOffset;
  return mbedtls_rsa_rsassa_pss_verify_ext(rsa, nullptr, nullptr, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_SHA256, 32,
                                           digest, MBEDTLS_MD_SHA256, 32, signature) == 0
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: privota-bench-verify-floor SIGNED_IMAGE DEVELOPER_KEY.pem\n");
    return 2;
  }
  const std::string image = slurp(argv[1]);
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  if (image.size() < 2 * kSector || mbedtls_pk_parse_keyfile(&pk, argv[2], nullptr) != 0 ||
      mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA) {
    std::fprintf(stderr, "privota-bench-verify-floor: bad image or key\n");
    return 1;
  }
  // A public-key context alone, as a verifier holds it.
  mbedtls_rsa_context* full = mbedtls_pk_rsa(pk);
  mbedtls_rsa_context rsa;
  mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
  if (mbedtls_rsa_import(&rsa, &full->N, nullptr, nullptr, nullptr, &full->E) != 0 ||
      mbedtls_rsa_complete(&rsa) != 0) {
    std::fprintf(stderr, "privota-bench-verify-floor: bad key\n");
    return 1;
  }
  const int rc =
      privota_bench_measured(reinterpret_cast<const unsigned char*>(image.data()), image.size(), &rsa);
  if (rc != 0) std::fprintf(stderr, "privota-bench-verify-floor: signature does not verify\n");
  mbedtls_rsa_free(&rsa);
  mbedtls_pk_free(&pk);
  return rc;
}
