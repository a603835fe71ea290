// OtaWriter: streams a new signed image into the passive slot of one level, then switches to it.
//
//   begin(size or 0) -> write(chunk)... -> finish(policy) -> activate()
//
// - Only the passive slot is touched: never the running one, so a failed or cut update leaves the device
//   as it was. abort() just forgets the attempt; nothing selects the half-written slot.
// - Flash is erased just ahead of the write pointer and only as far as the image reaches: a 64 KiB block
//   erase where the image covers a whole aligned block (known size), 4 KiB sectors elsewhere.
// - Bytes are programmed in whole 256-byte pages (one program command per page); pages that are all 0xFF
//   (the padding before the signature sector) are not programmed at all, but their sector is still erased
//   first: a sector counted as written (durable_bytes) never holds an older image's bytes.
// - resume() continues an interrupted write (a retry, or a reboot with the OTA job's journal) from a sector
//   boundary whose sectors already hold the right bytes; everything after it is erased again before use.
// - finish() re-reads the slot from flash and checks format, hash, signature, chip and anti-rollback, and
//   that exactly the signed bytes arrived; activate() is refused until that passed.
#pragma once

#include <stdint.h>

#include "privota/app_slots.h"
#include "privota/result.h"
#include "privota/signed_image.h"

namespace privota {

class OtaWriter {
 public:
  static constexpr uint32_t kPageSize = 256;

  // `running_slot` is the slot the device booted from at this level; the writer targets another one.
  OtaWriter(AppSlots& slots, uint32_t running_slot);

  // `expected_size`: the signed image's total size when known (e.g. Content-Length), else 0.
  Status begin(uint32_t expected_size);
  // Continues a write of `expected_size` bytes (0: unknown) whose first `durable_bytes` (a multiple of
  // 4 KiB, at most the size) are already in the passive slot, e.g. as durable_bytes() reported them
  // before a retry or as the journal committed them before a reboot. The next write() carries byte
  // `durable_bytes` of the image.
  Status resume(uint32_t expected_size, uint32_t durable_bytes);
  Status write(ConstByteSpan chunk);
  // Verifies what was written; `policy.limits.max_image_size` is set to the slot size. The image is hashed
  // through `buffer` (any size), its signature checked by `check`, and the result left in `image`.
  Status finish(const TrustPolicy& policy, Sha256& sha256, ByteSpan buffer, SignatureCheck& check,
                SignedImage& image);
  // The same with the signature checked in place, in `scratch` (at least kSignatureSectorSize bytes).
  Result<SignedImage> finish(const TrustPolicy& policy, Sha256& sha256, SignatureVerifier& verifier,
                             ByteSpan scratch);
  // Selects the verified slot as NEW: it boots on trial next time.
  Status activate();
  void abort() { state_ = State::kIdle; }

  uint32_t passive_slot() const { return passive_; }
  uint32_t bytes_written() const { return written_; }
  uint32_t bytes_erased() const { return erased_end_; }
  // Bytes certainly in flash: every page up to here programmed (or all 0xFF) and its sector erased. A cut
  // or a failed write never lowers what was durable before it.
  uint32_t durable_bytes() const { return durable_; }

 private:
  enum class State : uint8_t { kIdle, kWriting, kVerified, kFailed };

  Status check_size(uint32_t expected_size) const;
  Status erase_ahead(uint32_t end);
  Status program_page();
  Status fail(Status status);

  AppSlots& slots_;
  uint32_t running_;
  uint32_t passive_;
  State state_ = State::kIdle;
  uint32_t expected_ = 0;
  uint32_t written_ = 0;     // bytes received
  uint32_t erased_end_ = 0;  // [0, erased_end_) of the passive slot is erased
  uint32_t durable_ = 0;     // [0, durable_) is programmed as received
  uint8_t page_[kPageSize] = {};
  uint32_t page_fill_ = 0;
};

}  // namespace privota
