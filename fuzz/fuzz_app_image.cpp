// Fuzzes the streaming app image validator. The same image is checked three ways — in one piece, in pieces
// whose sizes the input chooses, and through read_app_image over a flash holding it — and all three must
// give the same verdict (ok, or the same error code) and, when ok, the same image.
//
// Input: [0] flags: bit 0 require_hash, bits 1-2 expected chip (any, ESP32-C3, ESP32, ESP32-S3)
//        [1..3] max_image_size, u24 LE (0: the whole input)   [4..11] chunk sizes, used in turn
//        [12..] the image
//
// Found here and fixed (fuzz/corpus/fuzz_app_image/regression_limit_order; test
// AppImage.VerdictDoesNotDependOnChunkingAtTheLimit): the size limit used to be judged while a header was
// half assembled, so the verdict depended on the chunking.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "privota/app_image.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/memory_flash.h"

using namespace privota;

namespace {

constexpr size_t kControlSize = 12;
constexpr ChipId kChips[4] = {ChipId::kAny, ChipId::kEsp32C3, ChipId::kEsp32, ChipId::kEsp32S3};

Result<AppImageInfo> validate_chunked(ConstByteSpan image, const AppImageLimits& limits, const uint8_t* sizes,
                                      size_t size_count) {
  host::MbedSha256 sha256;
  AppImageValidator validator(sha256, limits);
  bool all_empty = true;  // chunks of 0 bytes are fed too, but something must move the stream on
  for (size_t i = 0; i < size_count; ++i)
    all_empty = all_empty && sizes[i] == 0;
  size_t at = 0;
  size_t turn = 0;
  do {
    const size_t n = size_count == 0 ? image.size() : all_empty ? 1 : sizes[turn++ % size_count];
    const ConstByteSpan chunk = image.subspan(at, n);
    Result<size_t> used = validator.update(chunk);
    if (!used.is_ok()) {
      if (validator.info().status().code() != used.status().code()) __builtin_trap();  // error is sticky
      return used.status();
    }
    if (*used > chunk.size()) __builtin_trap();
    if (*used < chunk.size() && !validator.done()) __builtin_trap();  // fewer only when the image ended
    at += chunk.size();
  } while (!validator.done() && at < image.size());
  if (validator.done() && validator.position() > image.size()) __builtin_trap();
  return validator.info();
}

bool same_info(const AppImageInfo& a, const AppImageInfo& b) {
  if (a.image_size != b.image_size || a.segment_count != b.segment_count || a.checksum != b.checksum ||
      a.entry_addr != b.entry_addr || a.chip_id != b.chip_id || a.hash_appended != b.hash_appended ||
      memcmp(a.sha256, b.sha256, sizeof a.sha256) != 0 || a.desc.secure_version != b.desc.secure_version ||
      memcmp(a.desc.version, b.desc.version, sizeof a.desc.version) != 0 ||
      memcmp(a.desc.project_name, b.desc.project_name, sizeof a.desc.project_name) != 0) {
    return false;
  }
  for (size_t i = 0; i < a.segment_count && i < kMaxSegments; ++i) {
    if (a.segments[i].load_addr != b.segments[i].load_addr ||
        a.segments[i].data_len != b.segments[i].data_len ||
        a.segments[i].data_offset != b.segments[i].data_offset) {
      return false;
    }
  }
  return true;
}

void expect_same(const Result<AppImageInfo>& a, const Result<AppImageInfo>& b) {
  const Code ca = a.status().code();
  const Code cb = b.status().code();
  if (ca != cb) __builtin_trap();
  if (a.is_ok() && !same_info(*a, *b)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kControlSize) return 0;
  const uint8_t flags = data[0];
  const ConstByteSpan image(data + kControlSize, size - kControlSize);

  AppImageLimits limits;
  limits.require_hash = (flags & 1) != 0;
  limits.expected_chip = kChips[(flags >> 1) & 3];
  limits.max_image_size =
      data[1] | static_cast<uint32_t>(data[2]) << 8 | static_cast<uint32_t>(data[3]) << 16;
  // read_app_image bounds the image by its region; the streaming runs get the same bound.
  if (limits.max_image_size == 0 || limits.max_image_size > image.size())
    limits.max_image_size = static_cast<uint32_t>(image.size());

  const Result<AppImageInfo> whole = validate_chunked(image, limits, nullptr, 0);
  const Result<AppImageInfo> chunked = validate_chunked(image, limits, data + 4, 8);
  expect_same(whole, chunked);
  if (whole.is_ok() && whole->image_size > image.size()) __builtin_trap();

  host::MemoryFlash flash(std::vector<uint8_t>(image.begin(), image.end()));
  host::MbedSha256 sha256;
  const Result<AppImageInfo> from_flash = read_app_image(flash, sha256, limits);
  expect_same(whole, from_flash);
  return 0;
}
