// Fuzzes the system-call frame decoder in both directions (user -> protected requests, protected -> user
// responses). A frame that decodes must encode to the same 512 bytes and decode again to the same fields.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "privota/syscall.h"

using namespace privota;

namespace {

bool same_frame(const syscall::Frame& a, const syscall::Frame& b) {
  return a.call == b.call && a.response == b.response && a.status == b.status && a.id == b.id &&
         memcmp(a.values, b.values, sizeof a.values) == 0 && a.payload_len == b.payload_len &&
         memcmp(a.payload, b.payload, a.payload_len) == 0;
}

void round_trip(ConstByteSpan message, bool expect_response) {
  Result<syscall::Frame> frame = syscall::decode(message, expect_response);
  if (!frame.is_ok()) return;
  if (frame->response != expect_response) __builtin_trap();
  if (frame->payload_len != 0 && frame->string()[frame->payload_len - 1] != '\0' &&
      (frame->call == syscall::Call::kOtaStart || frame->call == syscall::Call::kLog)) {
    __builtin_trap();  // string payloads are NUL-terminated inside their length
  }
  (void)syscall::call_name(frame->call);

  uint8_t encoded[syscall::kFrameSize];
  if (!syscall::encode(*frame, ByteSpan(encoded, sizeof encoded)).is_ok()) __builtin_trap();
  // Every byte of a valid frame is checked on receipt, so the encoding is canonical.
  if (memcmp(encoded, message.data(), syscall::kFrameSize) != 0) __builtin_trap();
  Result<syscall::Frame> again = syscall::decode(ConstByteSpan(encoded, sizeof encoded), expect_response);
  if (!again.is_ok() || !same_frame(*frame, *again)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The message as received (any size), then padded with zeros / cut to one frame to reach the fields.
  round_trip(ConstByteSpan(data, size), false);
  round_trip(ConstByteSpan(data, size), true);
  uint8_t frame[syscall::kFrameSize] = {};
  memcpy(frame, data, size < sizeof frame ? size : sizeof frame);
  round_trip(ConstByteSpan(frame, sizeof frame), false);
  round_trip(ConstByteSpan(frame, sizeof frame), true);
  return 0;
}
