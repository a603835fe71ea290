#include "privota/rv32/mbedtls_crypto.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/memory_buffer_alloc.h>
#include <mbedtls/rsa.h>
#include <string.h>

namespace privota::rv32 {
namespace {

// RAII holders: every mbedTLS context is freed on every path (its memory is the shared static heap).
struct Rsa {
  mbedtls_rsa_context ctx;
  Rsa() { mbedtls_rsa_init(&ctx, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256); }
  ~Rsa() { mbedtls_rsa_free(&ctx); }
};

struct Mpi {
  mbedtls_mpi v;
  Mpi() { mbedtls_mpi_init(&v); }
  ~Mpi() { mbedtls_mpi_free(&v); }
};

struct P256 {
  mbedtls_ecp_group group;
  mbedtls_ecp_point q;
  P256() {
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&q);
  }
  ~P256() {
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&group);
  }
};

struct Certificate {
  mbedtls_x509_crt crt;
  Certificate() { mbedtls_x509_crt_init(&crt); }
  ~Certificate() { mbedtls_x509_crt_free(&crt); }
};

// mbedTLS parses PEM only from a NUL-terminated buffer whose length counts the NUL: the length up to and
// including the first NUL, or 0 when there is none (the caller's buffer must then be refused).
size_t pem_length(ConstByteSpan pem) {
  const void* nul = memchr(pem.data(), 0, pem.size());
  return nul == nullptr ? 0 : static_cast<size_t>(static_cast<const uint8_t*>(nul) - pem.data()) + 1;
}

}  // namespace

void init_crypto_heap(uint8_t* buffer, size_t size) {
  mbedtls_memory_buffer_alloc_init(buffer, size);
}

// With valid contexts and buffers these calls cannot fail (they report only accelerator errors, and this
// build has none), which is why the interface returns void.
MbedSha256::MbedSha256() {
  mbedtls_sha256_init(&context_);
  begin();
}
void MbedSha256::begin() {
  (void)mbedtls_sha256_starts_ret(&context_, 0);
}
void MbedSha256::update(ConstByteSpan data) {
  (void)mbedtls_sha256_update_ret(&context_, data.data(), data.size());
}
void MbedSha256::finish(uint8_t (&digest)[kDigestSize]) {
  (void)mbedtls_sha256_finish_ret(&context_, digest);
}
void MbedSha256::peek(uint8_t (&digest)[kDigestSize]) {
  mbedtls_sha256_context copy;
  mbedtls_sha256_init(&copy);
  mbedtls_sha256_clone(&copy, &context_);
  (void)mbedtls_sha256_finish_ret(&copy, digest);
  mbedtls_sha256_free(&copy);
}

MbedMd5::MbedMd5() {
  mbedtls_md5_init(&context_);
  begin();
}
void MbedMd5::begin() {
  (void)mbedtls_md5_starts_ret(&context_);
}
void MbedMd5::update(ConstByteSpan data) {
  (void)mbedtls_md5_update_ret(&context_, data.data(), data.size());
}
void MbedMd5::finish(uint8_t (&digest)[kDigestSize]) {
  (void)mbedtls_md5_finish_ret(&context_, digest);
}

Status MbedSignatureVerifier::verify_rsa_pss_sha256(ConstByteSpan modulus, uint32_t exponent,
                                                    const uint8_t (&digest)[kSha256Bytes],
                                                    ConstByteSpan signature) {
  Rsa rsa;
  const uint8_t e[4] = {static_cast<uint8_t>(exponent >> 24), static_cast<uint8_t>(exponent >> 16),
                        static_cast<uint8_t>(exponent >> 8), static_cast<uint8_t>(exponent)};
  if (mbedtls_rsa_import_raw(&rsa.ctx, modulus.data(), modulus.size(), nullptr, 0, nullptr, 0, nullptr, 0, e,
                             sizeof e) != 0) {
    return Status::error(Code::kBadSignature, "RSA public key is malformed");
  }
  // A public key needs only its length beside N and E. mbedtls_rsa_complete() would set it too, but it
  // also links the private-key deduction (primes, CRT: ~1.4 KiB) into the bootloader, which verifies only.
  rsa.ctx.len = mbedtls_mpi_size(&rsa.ctx.N);
  if (mbedtls_rsa_check_pubkey(&rsa.ctx) != 0)
    return Status::error(Code::kBadSignature, "RSA public key is malformed");
  if (signature.size() != mbedtls_rsa_get_len(&rsa.ctx))
    return Status::error(Code::kBadSignature, "RSA signature length does not match the key");
  const int rc =
      mbedtls_rsa_rsassa_pss_verify_ext(&rsa.ctx, nullptr, nullptr, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_SHA256,
                                        kSha256Bytes, digest, MBEDTLS_MD_SHA256, 32, signature.data());
  if (rc != 0) return Status::error(Code::kBadSignature, "RSA-PSS signature does not verify");
  return Status::ok();
}

Status MbedSignatureVerifier::verify_ecdsa_p256(const uint8_t (&x)[kP256Bytes],
                                                const uint8_t (&y)[kP256Bytes],
                                                const uint8_t (&digest)[kSha256Bytes],
                                                const uint8_t (&r)[kP256Bytes],
                                                const uint8_t (&s)[kP256Bytes]) {
  P256 key;
  Mpi mr;
  Mpi ms;
  uint8_t point[1 + 2 * kP256Bytes] = {0x04};  // uncompressed SEC1 point
  memcpy(point + 1, x, kP256Bytes);
  memcpy(point + 1 + kP256Bytes, y, kP256Bytes);
  if (mbedtls_ecp_group_load(&key.group, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
      mbedtls_ecp_point_read_binary(&key.group, &key.q, point, sizeof point) != 0 ||
      mbedtls_ecp_check_pubkey(&key.group, &key.q) != 0) {
    return Status::error(Code::kBadSignature, "ECDSA public key is not a point on P-256");
  }
  if (mbedtls_mpi_read_binary(&mr.v, r, kP256Bytes) != 0 ||
      mbedtls_mpi_read_binary(&ms.v, s, kP256Bytes) != 0)
    return Status::error(Code::kBadSignature, "ECDSA signature is malformed");
  if (mbedtls_ecdsa_verify(&key.group, digest, kSha256Bytes, &key.q, &mr.v, &ms.v) != 0)
    return Status::error(Code::kBadSignature, "ECDSA signature does not verify");
  return Status::ok();
}

Status MbedCertificateVerifier::load_ca(ConstByteSpan ca_pem) {
  mbedtls_x509_crt_init(&ca_);
  const size_t len = pem_length(ca_pem);
  if (len == 0 || mbedtls_x509_crt_parse(&ca_, ca_pem.data(), len) != 0)
    return Status::error(Code::kInvalidArgument, "CA certificate does not parse as PEM X.509");
  if (ca_.ca_istrue == 0)
    return Status::error(Code::kInvalidArgument, "CA certificate is not a CA (basicConstraints CA:FALSE)");
  loaded_ = true;
  return Status::ok();
}

Status MbedCertificateVerifier::verify_certificate(ConstByteSpan pem, CertifiedRsaKey& key) {
  if (!loaded_) return Status::error(Code::kBadState, "no CA configured");
  Certificate cert;
  const size_t len = pem_length(pem);
  if (len == 0 || mbedtls_x509_crt_parse(&cert.crt, pem.data(), len) != 0)
    return Status::error(Code::kBadMagic, "user-app certificate does not parse as PEM X.509");
  if (cert.crt.next != nullptr)
    return Status::error(Code::kTrailingData, "user-app certificate field holds more than one certificate");
  uint32_t flags = 0;
  (void)mbedtls_x509_crt_verify(&cert.crt, &ca_, nullptr, nullptr, &flags, nullptr, nullptr);
  // Dates are not judged: the device has no clock it could trust (docs/signing.md).
  flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE |
                                  MBEDTLS_X509_BADCRL_EXPIRED | MBEDTLS_X509_BADCRL_FUTURE);
  if (flags != 0)
    return Status::error(Code::kUntrusted, "user-app certificate is not issued by the trusted CA");
  if (mbedtls_pk_get_type(&cert.crt.pk) != MBEDTLS_PK_RSA)
    return Status::error(Code::kUnsupported, "user-app certificate does not carry an RSA key");
  const mbedtls_rsa_context* rsa = mbedtls_pk_rsa(cert.crt.pk);
  key.modulus_len = mbedtls_rsa_get_len(rsa);
  if (key.modulus_len > sizeof key.modulus)
    return Status::error(Code::kUnsupported, "user-app certificate key is larger than RSA-3072");
  Mpi n;
  Mpi e;
  uint8_t e_bytes[4];
  if (mbedtls_rsa_export(rsa, &n.v, nullptr, nullptr, nullptr, &e.v) != 0 ||
      mbedtls_mpi_write_binary(&n.v, key.modulus, key.modulus_len) != 0 ||
      mbedtls_mpi_write_binary(&e.v, e_bytes, sizeof e_bytes) != 0) {
    return Status::error(Code::kUnsupported, "user-app certificate RSA key cannot be read");
  }
  key.exponent =
      (uint32_t{e_bytes[0]} << 24) | (uint32_t{e_bytes[1]} << 16) | (uint32_t{e_bytes[2]} << 8) | e_bytes[3];
  return Status::ok();
}

}  // namespace privota::rv32
