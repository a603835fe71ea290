// Digest interfaces. The core hashes through these; a port supplies the implementation (mbedTLS on the
// host, the ROM/hardware SHA engine on a chip), so the core carries no crypto code of its own.
#pragma once

#include <stdint.h>

#include "privota/span.h"

namespace privota {

// Incremental SHA-256. begin() may be called again to start over.
class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  virtual void begin() = 0;
  virtual void update(ConstByteSpan data) = 0;
  virtual void finish(uint8_t (&digest)[kDigestSize]) = 0;
  // The digest of everything so far, while the stream goes on. Lets one pass over an image yield both the
  // image's own hash (a prefix) and the signed digest (the whole padded region): reading flash twice would
  // double boot-time hashing.
  virtual void peek(uint8_t (&digest)[kDigestSize]) = 0;

 protected:
  ~Sha256() = default;
};

// Incremental MD5: only the partition table uses it (ESP-IDF format fact), never for security.
class Md5 {
 public:
  static constexpr size_t kDigestSize = 16;
  virtual void begin() = 0;
  virtual void update(ConstByteSpan data) = 0;
  virtual void finish(uint8_t (&digest)[kDigestSize]) = 0;

 protected:
  ~Md5() = default;
};

// Constant-time comparison of two digests: a verifier must not leak how many leading bytes matched.
bool digest_equal(ConstByteSpan a, ConstByteSpan b);

}  // namespace privota
