#include "privota/image_head.h"

#include <string.h>

#include "privota/app_version.h"
#include "privota/byte_order.h"
#include "privota/ota_data.h"

namespace privota {

Result<ImageHead> parse_image_head(ConstByteSpan bytes) {
  if (bytes.size() < kImageHeadSize)
    return Status::error(Code::kTruncated, "image ended before its app descriptor",
                         static_cast<uint32_t>(bytes.size()));
  const uint8_t* p = bytes.data();
  if (p[0] != kImageMagic) return Status::error(Code::kBadMagic, "not an app image (magic 0xE9)", p[0]);
  if (p[1] == 0 || p[1] > kMaxSegments)
    return Status::error(Code::kBadLength, "app image segment count is out of range", p[1]);
  const uint8_t* segment = p + kImageHeaderSize;
  if (load_le32(segment + 4) < kAppDescSize)
    return Status::error(Code::kBadLength, "first segment is too short for the app descriptor",
                         load_le32(segment + 4));
  const uint8_t* desc = segment + kSegmentHeaderSize;
  if (load_le32(desc) != kAppDescMagic)
    return Status::error(Code::kBadMagic, "first segment does not start with esp_app_desc_t");
  ImageHead head;
  head.chip_id = load_le16(p + 12);
  head.secure_version = load_le32(desc + 4);
  memcpy(head.version, desc + 16, sizeof head.version - 1);             // esp_app_desc_t.version[32] at +16
  memcpy(head.app_elf_sha256, desc + 144, sizeof head.app_elf_sha256);  // app_elf_sha256[32] at +144
  return head;
}

Status check_image_head(const ImageHead& head, const TrustPolicy& policy, const AppDescriptor* running,
                        const AppDescriptor* rejected) {
  const ChipId chip = policy.limits.expected_chip;
  if (chip != ChipId::kAny && head.chip_id != static_cast<uint16_t>(chip))
    return Status::error(Code::kWrongChip, "image is built for another chip", head.chip_id);
  if (head.secure_version < policy.min_secure_version)
    return Status::error(Code::kRollback, "image secure_version is below the anti-rollback floor",
                         head.secure_version);
  if (running != nullptr && !app_version_is_newer(head.version, running->version))
    return Status::error(Code::kNotNewer, "image version is not newer than the running app's");
  // Installing again the image whose trial just failed would fail the same way, for ever (ESP-IDF's
  // esp_ota_get_last_invalid_partition() advice): a fixed build has another ELF hash, or a new version.
  if (rejected != nullptr && strcmp(head.version, rejected->version) == 0 &&
      memcmp(head.app_elf_sha256, rejected->app_elf_sha256, kRejectedDigestSize) == 0)
    return Status::error(Code::kRollback, "this image failed its trial on this device and was rolled back");
  return Status::ok();
}

}  // namespace privota
