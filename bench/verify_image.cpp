// Boot-time verification of one signed user app, for callgrind: verify_signed_image() over the image in a
// MemoryFlash, with the host's mbedTLS backends: image format, SHA-256 of the padded image, the RSA-3072-PSS
// signature and the certificate chain to the CA. scripts/bench counts only what runs inside
// privota_bench_measured (callgrind --toggle-collect), so loading the file and parsing the CA (done once, at
// configuration) are not counted.
//
// Usage: privota-bench-verify-image SIGNED_IMAGE CA_CERT.pem
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/signed_image.h"

namespace {

std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint8_t g_scratch[privota::kSignatureSectorSize];

}  // namespace

extern "C" __attribute__((noinline)) int privota_bench_measured(privota::Flash& flash,
                                                                privota::CertificateVerifier& ca) {
  using namespace privota;
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  TrustPolicy policy;
  policy.scheme = SignatureScheme::kUserAppCertificate;
  policy.user_ca = &ca;
  policy.limits.max_image_size = flash.size();
  const Result<SignedImage> image =
      verify_signed_image(flash, policy, sha, verifier, {g_scratch, sizeof g_scratch});
  if (!image.is_ok()) {
    std::fprintf(stderr, "privota-bench-verify-image: %s\n", image.status().reason());
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  using namespace privota;
  if (argc != 3) {
    std::fprintf(stderr, "usage: privota-bench-verify-image SIGNED_IMAGE CA_CERT.pem\n");
    return 2;
  }
  const std::string bytes = slurp(argv[1]);
  host::MemoryFlash flash(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  Result<host::MbedCertificateVerifier> ca = host::MbedCertificateVerifier::from_pem(slurp(argv[2]));
  if (!ca.is_ok()) {
    std::fprintf(stderr, "privota-bench-verify-image: %s\n", ca.status().reason());
    return 1;
  }
  return privota_bench_measured(flash, *ca);
}
