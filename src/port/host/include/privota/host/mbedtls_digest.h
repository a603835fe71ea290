// SHA-256 and MD5 for the core's digest interfaces, backed by mbedTLS (what ESP-IDF itself uses).
#pragma once

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "privota/digest.h"

namespace privota::host {

class MbedSha256 final : public Sha256 {
 public:
  MbedSha256();
  ~MbedSha256();
  MbedSha256(const MbedSha256&) = delete;
  MbedSha256& operator=(const MbedSha256&) = delete;

  void begin() override;
  void update(ConstByteSpan data) override;
  void finish(uint8_t (&digest)[kDigestSize]) override;
  void peek(uint8_t (&digest)[kDigestSize]) override;

 private:
  mbedtls_sha256_context context_;
};

class MbedMd5 final : public Md5 {
 public:
  MbedMd5();
  ~MbedMd5();
  MbedMd5(const MbedMd5&) = delete;
  MbedMd5& operator=(const MbedMd5&) = delete;

  void begin() override;
  void update(ConstByteSpan data) override;
  void finish(uint8_t (&digest)[kDigestSize]) override;

 private:
  mbedtls_md5_context context_;
};

}  // namespace privota::host
