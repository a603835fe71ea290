// Fuzzes both signature sector decoders: Secure Boot v2 blocks (sbv2) and the ESP-PrivSep user-app sector
// (user_sig), layout checks and full verification with the host's mbedTLS backends. The image digest is the
// one the sector itself stores, so a well-formed sector reaches the signature and certificate checks.
//
// Input: the 4096-byte sector (0xFF-padded or cut).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>

#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/secure_boot_v2.h"
#include "privota/signed_image.h"
#include "privota/user_app_signature.h"

using namespace privota;

namespace {

host::MbedCertificateVerifier* g_ca = nullptr;  // built once: parsing the CA is not what we fuzz
KeyDigest g_trusted[2];                         // the RSA-3072 and ECDSA P-256 test keys

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "fuzz_signature_blocks: cannot read %s\n", path);
    abort();
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void load_digest(const char* path, KeyDigest& out) {
  const std::string bytes = read_file(path);
  if (bytes.size() != sizeof out.bytes) {
    fprintf(stderr, "fuzz_signature_blocks: %s is not 32 bytes\n", path);
    abort();
  }
  memcpy(out.bytes, bytes.data(), sizeof out.bytes);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Result<host::MbedCertificateVerifier> ca =
      host::MbedCertificateVerifier::from_pem(read_file(PRIVOTA_FUZZ_CA_PEM));
  if (!ca.is_ok()) {
    fprintf(stderr, "fuzz_signature_blocks: CA certificate refused: %s\n", ca.status().reason());
    abort();
  }
  g_ca = new host::MbedCertificateVerifier(static_cast<host::MbedCertificateVerifier&&>(ca.value()));
  load_digest(PRIVOTA_FUZZ_RSA_KEY_DIGEST, g_trusted[0]);
  load_digest(PRIVOTA_FUZZ_ECDSA_KEY_DIGEST, g_trusted[1]);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t sector[kSignatureSectorSize];
  memset(sector, 0xFF, sizeof sector);
  memcpy(sector, data, size < sizeof sector ? size : sizeof sector);
  const ConstByteSpan whole(sector, sizeof sector);

  host::MbedSha256 sha256;
  host::MbedSignatureVerifier verifier;

  // Secure Boot v2: each block, then the sector.
  uint8_t digest[32];
  memcpy(digest, sector + sbv2::kImageDigestOffset, sizeof digest);
  const Span<const KeyDigest> trusted(g_trusted, 2);
  for (size_t i = 0; i < sbv2::kMaxBlocks; ++i) {
    const ConstByteSpan block = whole.subspan(i * sbv2::kBlockSize, sbv2::kBlockSize);
    if (!sbv2::check_block(block).is_ok()) continue;
    KeyDigest key;
    sbv2::key_digest(block, sha256, key);
    uint8_t block_digest[32];
    memcpy(block_digest, block.data() + sbv2::kImageDigestOffset, sizeof block_digest);
    (void)sbv2::verify_block(block, block_digest, trusted, sha256, verifier);
  }
  uint8_t which = 0xFF;
  const Status sbv2_verdict = sbv2::verify_sector(whole, digest, trusted, sha256, verifier, which);
  if (sbv2_verdict.is_ok() && which >= sbv2::kMaxBlocks) __builtin_trap();

  // User-app sector: layout, then the full check against the stored digest.
  const Status layout = user_sig::check_sector(whole);
  memcpy(digest, sector + user_sig::kImageDigestOffset, sizeof digest);
  const Status user_verdict = user_sig::verify_sector(whole, digest, *g_ca, verifier);
  if (user_verdict.is_ok() && !layout.is_ok()) __builtin_trap();  // a full pass implies a layout pass
  return 0;
}
