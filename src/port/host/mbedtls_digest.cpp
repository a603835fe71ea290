#include "privota/host/mbedtls_digest.h"

#include <mbedtls/version.h>

// mbedTLS 2.x names the int-returning calls *_ret; 3.x dropped the suffix. Debian 12 ships 2.28.
#if MBEDTLS_VERSION_MAJOR < 3
#define PRIVOTA_MBED(fn) fn##_ret
#else
#define PRIVOTA_MBED(fn) fn
#endif

namespace privota::host {

// With valid contexts and buffers these mbedTLS calls cannot fail (they only report hardware-accelerator
// errors, and this build has none), which is why the interface returns void.

MbedSha256::MbedSha256() {
  mbedtls_sha256_init(&context_);
  begin();
}
MbedSha256::~MbedSha256() {
  mbedtls_sha256_free(&context_);
}
void MbedSha256::begin() {
  (void)PRIVOTA_MBED(mbedtls_sha256_starts)(&context_, 0);
}
void MbedSha256::update(ConstByteSpan data) {
  (void)PRIVOTA_MBED(mbedtls_sha256_update)(&context_, data.data(), data.size());
}
void MbedSha256::finish(uint8_t (&digest)[kDigestSize]) {
  (void)PRIVOTA_MBED(mbedtls_sha256_finish)(&context_, digest);
}

void MbedSha256::peek(uint8_t (&digest)[kDigestSize]) {
  mbedtls_sha256_context copy;
  mbedtls_sha256_init(&copy);
  mbedtls_sha256_clone(&copy, &context_);
  (void)PRIVOTA_MBED(mbedtls_sha256_finish)(&copy, digest);
  mbedtls_sha256_free(&copy);
}

MbedMd5::MbedMd5() {
  mbedtls_md5_init(&context_);
  begin();
}
MbedMd5::~MbedMd5() {
  mbedtls_md5_free(&context_);
}
void MbedMd5::begin() {
  (void)PRIVOTA_MBED(mbedtls_md5_starts)(&context_);
}
void MbedMd5::update(ConstByteSpan data) {
  (void)PRIVOTA_MBED(mbedtls_md5_update)(&context_, data.data(), data.size());
}
void MbedMd5::finish(uint8_t (&digest)[kDigestSize]) {
  (void)PRIVOTA_MBED(mbedtls_md5_finish)(&context_, digest);
}

}  // namespace privota::host
