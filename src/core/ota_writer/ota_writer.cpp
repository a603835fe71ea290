#include "privota/ota_writer.h"

#include <string.h>

#include "privota/ota_data.h"

namespace privota {
namespace {

bool all_erased(const uint8_t* bytes, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (bytes[i] != 0xFF) return false;
  }
  return true;
}

uint32_t round_up(uint32_t value, uint32_t unit) {
  return (value + unit - 1) / unit * unit;
}

}  // namespace

OtaWriter::OtaWriter(AppSlots& slots, uint32_t running_slot)
    : slots_(slots),
      running_(running_slot),
      passive_(slots.slot_count == 0 ? 0 : (running_slot + 1) % slots.slot_count) {}

Status OtaWriter::fail(Status status) {
  state_ = State::kFailed;
  return status;
}

Status OtaWriter::check_size(uint32_t expected_size) const {
  if (slots_.slot_count < 2 || running_ >= slots_.slot_count) {
    return Status::error(Code::kInvalidArgument, "running slot is not one of the level's slots", running_);
  }
  const FlashRegion& slot = slots_.slots[passive_];
  if (expected_size > slot.size()) {
    return Status::error(Code::kLimitExceeded, "image is larger than the passive slot", expected_size);
  }
  if (expected_size != 0 && expected_size % kSignatureSectorSize != 0) {
    // A signed image is the padded image plus a 4 KiB sector: anything else is not one.
    return Status::error(Code::kBadLength, "signed image size is not a multiple of 4 KiB", expected_size);
  }
  return Status::ok();
}

Status OtaWriter::begin(uint32_t expected_size) {
  return resume(expected_size, 0);
}

Status OtaWriter::resume(uint32_t expected_size, uint32_t durable_bytes) {
  PRIVOTA_TRY(check_size(expected_size));
  const uint32_t limit = expected_size != 0 ? expected_size : slots_.slots[passive_].size();
  if (durable_bytes % Flash::kSectorSize != 0 || durable_bytes > limit) {
    return Status::error(Code::kInvalidArgument, "resume point is not a sector boundary inside the image",
                         durable_bytes);
  }
  state_ = State::kWriting;
  expected_ = expected_size;
  written_ = durable_bytes;
  // Only [0, durable_bytes) is known good: the sector after it may hold a half-programmed page, so it is
  // erased again before its first page.
  erased_end_ = durable_bytes;
  durable_ = durable_bytes;
  page_fill_ = 0;
  return Status::ok();
}

Status OtaWriter::erase_ahead(uint32_t end) {
  FlashRegion& slot = slots_.slots[passive_];
  const uint32_t needed_end = expected_ != 0 ? expected_ : slot.size();
  while (erased_end_ < end) {
    uint32_t unit = Flash::kSectorSize;
    // A whole aligned 64 KiB block the image will fill takes one block erase (150 ms) instead of 16 sector
    // erases (16 x 45 ms). Only with a known size: otherwise we cannot know the image fills it.
    if (expected_ != 0 && erased_end_ % Flash::kBlockSize == 0 &&
        needed_end - erased_end_ >= Flash::kBlockSize) {
      unit = Flash::kBlockSize;
    }
    PRIVOTA_TRY(slot.erase(erased_end_, unit));
    erased_end_ += unit;
  }
  return Status::ok();
}

Status OtaWriter::program_page() {
  const uint32_t at = round_up(written_, kPageSize) - kPageSize;  // the page the buffer holds
  const uint32_t n = page_fill_;
  page_fill_ = 0;
  // Erase first even for a page of 0xFF that is not programmed: once durable, its sector must not still
  // hold an older image's bytes. finish() would erase it anyway, so this costs nothing extra.
  PRIVOTA_TRY(erase_ahead(round_up(at + n, Flash::kSectorSize)));
  if (!all_erased(page_, n)) PRIVOTA_TRY(slots_.slots[passive_].program(at, ConstByteSpan(page_, n)));
  durable_ = at + n;
  return Status::ok();
}

Status OtaWriter::write(ConstByteSpan chunk) {
  if (state_ != State::kWriting)
    return Status::error(Code::kBadState, "write() without a successful begin()");
  const uint32_t limit = expected_ != 0 ? expected_ : slots_.slots[passive_].size();
  if (chunk.size() > limit - written_) {
    return fail(Status::error(Code::kLimitExceeded,
                              expected_ != 0 ? "more bytes arrived than the image size announced"
                                             : "image is larger than the passive slot",
                              written_));
  }
  for (size_t used = 0; used < chunk.size();) {
    uint32_t n = kPageSize - page_fill_;
    if (n > chunk.size() - used) n = static_cast<uint32_t>(chunk.size() - used);
    memcpy(page_ + page_fill_, chunk.data() + used, n);
    page_fill_ += n;
    written_ += n;
    used += n;
    if (page_fill_ == kPageSize) {
      const Status status = program_page();
      if (!status.is_ok()) return fail(status);
    }
  }
  return Status::ok();
}

Result<SignedImage> OtaWriter::finish(const TrustPolicy& policy, Sha256& sha256, SignatureVerifier& verifier,
                                      ByteSpan scratch) {
  InPlaceSignatureCheck in_place(sha256, verifier, scratch);
  SignedImage image;
  PRIVOTA_TRY(finish(policy, sha256, scratch.first(kSignatureSectorSize), in_place, image));
  return image;
}

Status OtaWriter::finish(const TrustPolicy& policy, Sha256& sha256, ByteSpan buffer, SignatureCheck& check,
                         SignedImage& image) {
  if (state_ != State::kWriting)
    return Status::error(Code::kBadState, "finish() without a successful begin()");
  if (page_fill_ > 0) {
    const Status status = program_page();
    if (!status.is_ok()) return fail(status);
  }
  if (expected_ != 0 && written_ != expected_) {
    return fail(Status::error(Code::kTruncated, "image ended before the announced size", written_));
  }
  // Pages of 0xFF were skipped; make sure their sectors are erased, not left holding an older image.
  const Status erased = erase_ahead(round_up(written_, Flash::kSectorSize));
  if (!erased.is_ok()) return fail(erased);
  // Verify only what this update wrote: the rest of the slot may hold an older image, whose signature
  // sector must never stand in for a missing one.
  FlashRegion received(slots_.slots[passive_], 0, written_);
  TrustPolicy slot_policy = policy;
  slot_policy.limits.max_image_size = slots_.slots[passive_].size();
  const Status hashed = hash_signed_image(received, slot_policy, sha256, buffer, image);
  if (!hashed.is_ok()) return fail(hashed);
  const Status signature = check.check(received, slot_policy, image);
  if (!signature.is_ok()) return fail(signature);
  if (image.signed_size != written_) {
    return fail(Status::error(written_ < image.signed_size ? Code::kTruncated : Code::kTrailingData,
                              written_ < image.signed_size ? "image ended before its signature sector"
                                                           : "bytes follow the signature sector",
                              written_));
  }
  state_ = State::kVerified;
  return Status::ok();
}

Status OtaWriter::activate() {
  if (state_ != State::kVerified) {
    return Status::error(Code::kBadState, "activate() is allowed only after finish() verified the image");
  }
  state_ = State::kIdle;
  return write_ota_selection(slots_.select, slots_.slot_count, passive_, OtaState::kNew);
}

}  // namespace privota
