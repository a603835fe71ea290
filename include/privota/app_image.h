// The ESP application image (esptool / ESP-IDF esp_app_format.h, esp_image_format.h), byte for byte:
//
//   esp_image_header_t (24 B)   +0 magic 0xE9  +1 segment_count  +2 spi_mode  +3 spi_speed:4|spi_size:4
//                               +4 entry_addr  +8 wp_pin  +9 spi_pin_drv[3]  +12 chip_id u16
//                               +14 min_chip_rev  +15 min_chip_rev_full u16  +17 max_chip_rev_full u16
//                               +19 reserved[4]  +23 hash_appended
//   segment_count x { load_addr u32, data_len u32 (multiple of 4), data[data_len] }
//   zero padding up to 15 mod 16, then the checksum byte: 0xEF xor every segment data byte
//   if hash_appended: SHA-256 of every byte from the header through the checksum byte
//
// The first segment starts with esp_app_desc_t (256 B, magic 0xABCD5432): secure_version, version,
// project_name, time, date, idf_ver, app_elf_sha256.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/chip.h"
#include "privota/digest.h"
#include "privota/flash.h"
#include "privota/result.h"
#include "privota/span.h"

namespace privota {

constexpr uint8_t kImageMagic = 0xE9;
constexpr size_t kImageHeaderSize = 24;
constexpr size_t kSegmentHeaderSize = 8;
constexpr size_t kMaxSegments = 16;  // ESP_IMAGE_MAX_SEGMENTS
constexpr uint8_t kChecksumSeed = 0xEF;
constexpr uint32_t kAppDescMagic = 0xABCD5432;
constexpr size_t kAppDescSize = 256;

struct AppDescriptor {
  uint32_t secure_version = 0;
  // The format's fixed-size fields, always NUL-terminated here even when the image's field is full.
  char version[33] = {};
  char project_name[33] = {};
  char time[17] = {};
  char date[17] = {};
  char idf_ver[33] = {};
  uint8_t app_elf_sha256[32] = {};
};

struct SegmentInfo {
  uint32_t load_addr = 0;
  uint32_t data_len = 0;
  uint32_t data_offset = 0;  // where the segment's data starts, from the image start
};

struct AppImageInfo {
  uint8_t spi_mode = 0;
  uint8_t spi_speed_size = 0;
  uint32_t entry_addr = 0;
  uint16_t chip_id = 0;
  uint8_t min_chip_rev = 0;
  uint16_t min_chip_rev_full = 0;
  uint16_t max_chip_rev_full = 0;
  bool hash_appended = false;
  uint8_t segment_count = 0;
  SegmentInfo segments[kMaxSegments];
  uint8_t checksum = 0;
  // Bytes from the header through the checksum byte and, if appended, the SHA-256.
  uint32_t image_size = 0;
  // SHA-256 of the image through the checksum byte (computed; equals the appended one when present).
  uint8_t sha256[32] = {};
  AppDescriptor desc;
};

struct AppImageLimits {
  // The image with its hash must fit here: normally the partition size.
  uint32_t max_image_size = 0;
  ChipId expected_chip = ChipId::kAny;
  // An image without an appended SHA-256 is protected only by an 8-bit checksum; refuse it by default.
  bool require_hash = true;
};

// Checks an image that arrives in pieces of any size (a download, a flash read) using a fixed, small amount
// of RAM: the header and segment headers are decoded as they pass, the SHA-256 runs alongside, and only the
// app descriptor is kept. Feed with update() until done(), then take info().
//
// Every byte the validator consumes goes into `sha256` (the image hash is taken with peek() at the checksum),
// so a caller can continue the same stream over what follows the image, e.g. the padding that a signature
// covers, and read the flash only once.
class AppImageValidator {
 public:
  AppImageValidator(Sha256& sha256, const AppImageLimits& limits);

  // Consumes bytes up to the end of the image and says how many it took: fewer than given means the image
  // ended inside this chunk (what follows it, e.g. a signature sector, is the caller's). After an error
  // every later call returns the same error.
  Result<size_t> update(ConstByteSpan chunk);
  bool done() const { return stage_ == Stage::kDone; }
  // The decoded image, once done(); otherwise why it is not (truncated, or the first error).
  Result<AppImageInfo> info() const;
  // The same without the Result's copy, for a caller that saw done() (a small stack copies it once).
  const AppImageInfo& done_info() const { return info_; }
  // Bytes consumed so far.
  uint32_t position() const { return position_; }

 private:
  enum class Stage : uint8_t { kHeader, kSegmentHeader, kSegmentData, kChecksum, kHash, kDone, kFailed };

  Status step(ConstByteSpan rest, size_t& n);
  size_t take_into_buffer(ConstByteSpan chunk, size_t wanted);
  Status on_header();
  Status on_segment_header();
  void on_segment_data(ConstByteSpan data);
  Status on_checksum_byte(uint8_t byte, uint32_t offset);
  Status on_hash();
  Status parse_app_desc();
  Status fail(Status status);

  Sha256& sha256_;
  AppImageLimits limits_;
  Stage stage_ = Stage::kHeader;
  Status error_;
  AppImageInfo info_;
  uint32_t position_ = 0;
  uint8_t buffer_[32] = {};  // header (24), segment header (8) or appended hash (32) being assembled
  size_t buffered_ = 0;
  uint8_t segment_index_ = 0;
  uint32_t segment_left_ = 0;
  uint8_t checksum_ = kChecksumSeed;
  uint8_t app_desc_[kAppDescSize] = {};
  size_t app_desc_len_ = 0;
};

// Validates the image at the start of `region` (a partition) by streaming it through AppImageValidator.
Result<AppImageInfo> read_app_image(Flash& region, Sha256& sha256, AppImageLimits limits);

}  // namespace privota
