// The first bytes of a downloading image (header, first segment header, app descriptor): enough to refuse
// an image for another chip, below the anti-rollback floor or not newer than the running app before
// anything is erased. The full checks (hash, signature) come after the download, in OtaWriter::finish().
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/result.h"
#include "privota/signed_image.h"

namespace privota {

constexpr size_t kImageHeadSize = kImageHeaderSize + kSegmentHeaderSize + kAppDescSize;  // 288

struct ImageHead {
  uint16_t chip_id = 0;
  uint32_t secure_version = 0;
  char version[33] = {};
  uint8_t app_elf_sha256[32] = {};
};

// kTruncated when fewer than kImageHeadSize bytes are given, kBadMagic / kBadLength for a head that is not
// an app image's.
Result<ImageHead> parse_image_head(ConstByteSpan bytes);

// kWrongChip, kRollback or kNotNewer (app_version.h), checked in that order; then kRollback again for the
// very image (same version and ELF SHA-256 prefix of kRejectedDigestSize bytes, all the device keeps) that
// `rejected` describes. `running` and `rejected` may be nullptr.
Status check_image_head(const ImageHead& head, const TrustPolicy& policy, const AppDescriptor* running,
                        const AppDescriptor* rejected);

}  // namespace privota
