#include <string.h>

#include "privota/app_image.h"
#include "privota/byte_order.h"

namespace privota {
namespace {

constexpr size_t kHashSize = Sha256::kDigestSize;

template <size_t N>
void copy_field(char (&dst)[N], const uint8_t* src) {
  memcpy(dst, src, N - 1);
  dst[N - 1] = '\0';
}

}  // namespace

AppImageValidator::AppImageValidator(Sha256& sha256, const AppImageLimits& limits)
    : sha256_(sha256), limits_(limits) {
  sha256_.begin();
}

Status AppImageValidator::fail(Status status) {
  stage_ = Stage::kFailed;
  error_ = status;
  return status;
}

size_t AppImageValidator::take_into_buffer(ConstByteSpan chunk, size_t wanted) {
  size_t n = wanted - buffered_;
  if (n > chunk.size()) n = chunk.size();
  memcpy(buffer_ + buffered_, chunk.data(), n);
  buffered_ += n;
  position_ += static_cast<uint32_t>(n);
  return n;
}

Result<size_t> AppImageValidator::update(ConstByteSpan chunk) {
  size_t used = 0;
  while (used < chunk.size() && stage_ != Stage::kDone) {
    if (stage_ == Stage::kFailed) return error_;
    size_t n = 0;
    const Status status = step(chunk.subspan(used), n);
    used += n;
    if (!status.is_ok()) return fail(status);
    // Judged only between structures: a header still being assembled is judged by its own checks first,
    // so the verdict never depends on where the chunks happen to end.
    if (buffered_ == 0 && limits_.max_image_size != 0 && position_ > limits_.max_image_size) {
      return fail(Status::error(Code::kLimitExceeded, "image is larger than its partition", position_));
    }
  }
  if (stage_ == Stage::kFailed) return error_;
  return used;
}

// Advances by at most one structure; `n` is how many bytes of `rest` it consumed.
Status AppImageValidator::step(ConstByteSpan rest, size_t& n) {
  switch (stage_) {
    case Stage::kHeader:
      n = take_into_buffer(rest, kImageHeaderSize);
      return buffered_ == kImageHeaderSize ? on_header() : Status::ok();
    case Stage::kSegmentHeader:
      n = take_into_buffer(rest, kSegmentHeaderSize);
      return buffered_ == kSegmentHeaderSize ? on_segment_header() : Status::ok();
    case Stage::kSegmentData:
      n = rest.size() < segment_left_ ? rest.size() : segment_left_;
      position_ += static_cast<uint32_t>(n);
      on_segment_data(rest.first(n));
      return Status::ok();
    case Stage::kChecksum:
      n = 1;
      ++position_;
      return on_checksum_byte(rest[0], position_ - 1);
    case Stage::kHash:
      n = take_into_buffer(rest, kHashSize);
      sha256_.update(rest.first(n));  // not part of the image hash, but of a signed region that follows
      return buffered_ == kHashSize ? on_hash() : Status::ok();
    case Stage::kDone:
    case Stage::kFailed:
      break;
  }
  n = 0;
  return Status::ok();
}

Status AppImageValidator::on_header() {
  buffered_ = 0;
  sha256_.update(ConstByteSpan(buffer_, kImageHeaderSize));
  const uint8_t* h = buffer_;
  if (h[0] != kImageMagic) return Status::error(Code::kBadMagic, "image does not start with magic 0xE9", 0);
  info_.segment_count = h[1];
  if (info_.segment_count == 0 || info_.segment_count > kMaxSegments) {
    return Status::error(Code::kLimitExceeded, "image segment count is 0 or above 16", h[1]);
  }
  info_.spi_mode = h[2];
  info_.spi_speed_size = h[3];
  info_.entry_addr = load_le32(h + 4);
  info_.chip_id = load_le16(h + 12);
  info_.min_chip_rev = h[14];
  info_.min_chip_rev_full = load_le16(h + 15);
  info_.max_chip_rev_full = load_le16(h + 17);
  if (h[23] > 1)
    return Status::error(Code::kInvalidArgument, "image hash_appended flag is neither 0 nor 1", 23);
  info_.hash_appended = h[23] == 1;
  if (limits_.expected_chip != ChipId::kAny &&
      info_.chip_id != static_cast<uint16_t>(limits_.expected_chip)) {
    return Status::error(Code::kWrongChip, "image is built for another chip", info_.chip_id);
  }
  if (limits_.require_hash && !info_.hash_appended) {
    return Status::error(Code::kUnsupported, "image has no appended SHA-256 (build it with the hash)", 23);
  }
  stage_ = Stage::kSegmentHeader;
  return Status::ok();
}

Status AppImageValidator::on_segment_header() {
  buffered_ = 0;
  sha256_.update(ConstByteSpan(buffer_, kSegmentHeaderSize));
  SegmentInfo& segment = info_.segments[segment_index_];
  segment.load_addr = load_le32(buffer_);
  segment.data_len = load_le32(buffer_ + 4);
  segment.data_offset = position_;
  if (segment.data_len % 4 != 0) {
    return Status::error(Code::kMisaligned, "segment length is not a multiple of 4", segment_index_);
  }
  const uint32_t room =
      limits_.max_image_size == 0 ? UINT32_MAX : limits_.max_image_size - segment.data_offset;
  if (segment.data_len > room) {
    return Status::error(Code::kBadLength, "segment length reaches past the end of the partition",
                         segment_index_);
  }
  if (segment_index_ == 0 && segment.data_len < kAppDescSize) {
    return Status::error(Code::kBadLength, "first segment is too short to hold the app descriptor", 0);
  }
  segment_left_ = segment.data_len;
  stage_ = Stage::kSegmentData;
  if (segment_left_ == 0) on_segment_data(ConstByteSpan());  // an empty segment ends at once
  return Status::ok();
}

void AppImageValidator::on_segment_data(ConstByteSpan data) {
  sha256_.update(data);
  for (uint8_t b : data)
    checksum_ ^= b;
  if (segment_index_ == 0 && app_desc_len_ < kAppDescSize) {
    size_t n = kAppDescSize - app_desc_len_;
    if (n > data.size()) n = data.size();
    memcpy(app_desc_ + app_desc_len_, data.data(), n);
    app_desc_len_ += n;
  }
  segment_left_ -= static_cast<uint32_t>(data.size());
  if (segment_left_ != 0) return;
  ++segment_index_;
  stage_ = segment_index_ == info_.segment_count ? Stage::kChecksum : Stage::kSegmentHeader;
}

Status AppImageValidator::on_checksum_byte(uint8_t byte, uint32_t offset) {
  sha256_.update(ConstByteSpan(&byte, 1));
  // Zero padding fills up to offset 15 mod 16; the byte there is the checksum.
  if (offset % 16 != 15) {
    if (byte != 0) return Status::error(Code::kBadChecksum, "checksum padding is not zero", offset);
    return Status::ok();
  }
  info_.checksum = byte;
  if (byte != checksum_) return Status::error(Code::kBadChecksum, "image checksum does not match", offset);
  PRIVOTA_TRY(parse_app_desc());
  sha256_.peek(info_.sha256);
  info_.image_size = offset + 1 + (info_.hash_appended ? kHashSize : 0);
  if (limits_.max_image_size != 0 && info_.image_size > limits_.max_image_size) {
    return Status::error(Code::kLimitExceeded, "image with its hash is larger than its partition",
                         info_.image_size);
  }
  stage_ = info_.hash_appended ? Stage::kHash : Stage::kDone;
  return Status::ok();
}

Status AppImageValidator::on_hash() {
  buffered_ = 0;
  if (!digest_equal(ConstByteSpan(buffer_, kHashSize), ConstByteSpan(info_.sha256, kHashSize))) {
    return Status::error(Code::kBadHash, "appended SHA-256 does not match the image", position_);
  }
  stage_ = Stage::kDone;
  return Status::ok();
}

Status AppImageValidator::parse_app_desc() {
  const uint8_t* d = app_desc_;
  if (app_desc_len_ < kAppDescSize || load_le32(d) != kAppDescMagic) {
    return Status::error(Code::kBadMagic, "first segment does not start with an app descriptor (0xABCD5432)",
                         kImageHeaderSize + kSegmentHeaderSize);
  }
  AppDescriptor& desc = info_.desc;
  desc.secure_version = load_le32(d + 4);
  copy_field(desc.version, d + 16);
  copy_field(desc.project_name, d + 48);
  copy_field(desc.time, d + 80);
  copy_field(desc.date, d + 96);
  copy_field(desc.idf_ver, d + 112);
  memcpy(desc.app_elf_sha256, d + 144, sizeof desc.app_elf_sha256);
  return Status::ok();
}

Result<AppImageInfo> AppImageValidator::info() const {
  if (stage_ == Stage::kFailed) return error_;
  if (stage_ != Stage::kDone)
    return Status::error(Code::kTruncated, "image ends before it is complete", position_);
  return info_;
}

}  // namespace privota
