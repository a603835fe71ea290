#include <string.h>

#include "privota/byte_order.h"
#include "privota/syscall.h"

namespace privota {
namespace syscall {
namespace {

bool takes_string(Call call) {
  return call == Call::kOtaStart || call == Call::kLog || call == Call::kFleetAnswer;
}

// A request's payload and values, call by call. Responses carry data chosen by the protected app.
Status check_request(const Frame& f) {
  if (!takes_string(f.call) && f.payload_len != 0) {
    return Status::error(Code::kBadLength, "system call takes no payload", static_cast<uint32_t>(f.call));
  }
  switch (f.call) {
    case Call::kOtaStart:
      if (f.payload_len < 2) return Status::error(Code::kBadLength, "ota_start needs a URL");
      break;
    case Call::kLog:
      if (f.values[0] > kMaxLogLevel)
        return Status::error(Code::kInvalidArgument, "log level above 4", f.values[0]);
      break;
    case Call::kAppInfo:
      if (f.values[0] > 1 && f.values[0] != kRunningSlot) {
        return Status::error(Code::kInvalidArgument, "app_info slot is neither 0, 1 nor the running one",
                             f.values[0]);
      }
      break;
    case Call::kFleetAnswer:
      if (f.payload_len < 2) return Status::error(Code::kBadLength, "fleet_answer needs a job id");
      if (f.values[0] != kFleetAccept && f.values[0] != kFleetDefer) {
        return Status::error(Code::kInvalidArgument, "fleet_answer is neither accept (1) nor defer (2)",
                             f.values[0]);
      }
      break;
    case Call::kWatchdogArm:
      if (f.values[0] != 0 && (f.values[0] < kMinWatchdogMs || f.values[0] > kMaxWatchdogMs)) {
        return Status::error(Code::kInvalidArgument, "watchdog period is not 0 or 100..3600000 ms",
                             f.values[0]);
      }
      break;
    default:
      break;
  }
  return Status::ok();
}

Status check_string(const Frame& f) {
  if (f.payload_len == 0) return Status::ok();
  const void* nul = memchr(f.payload, 0, f.payload_len);
  if (nul == nullptr) return Status::error(Code::kBadLength, "string payload is not NUL-terminated");
  if (static_cast<const uint8_t*>(nul) != f.payload + f.payload_len - 1) {
    return Status::error(Code::kInvalidArgument, "string payload has a NUL before its end");
  }
  return Status::ok();
}

}  // namespace

const char* call_name(Call call) {
  switch (call) {
    case Call::kOtaStart:
      return "ota_start";
    case Call::kOtaStatus:
      return "ota_status";
    case Call::kOtaCancel:
      return "ota_cancel";
    case Call::kOtaMarkValid:
      return "ota_mark_valid";
    case Call::kOtaMarkInvalidAndReboot:
      return "ota_mark_invalid_and_reboot";
    case Call::kAppInfo:
      return "app_info";
    case Call::kLog:
      return "log";
    case Call::kRestart:
      return "restart";
    case Call::kWatchdogArm:
      return "watchdog_arm";
    case Call::kWatchdogFeed:
      return "watchdog_feed";
    case Call::kFleetOffer:
      return "fleet_offer";
    case Call::kFleetAnswer:
      return "fleet_answer";
  }
  return "unknown";
}

Status Frame::set_string(const char* text) {
  const size_t len = strlen(text) + 1;
  if (len > kPayloadMax) {
    return Status::error(Code::kLimitExceeded, "string does not fit a system-call frame (479 bytes max)",
                         static_cast<uint32_t>(len));
  }
  memcpy(payload, text, len);
  payload_len = static_cast<uint16_t>(len);
  return Status::ok();
}

Status encode(const Frame& f, ByteSpan out) {
  if (out.size() < kFrameSize) return Status::error(Code::kInvalidArgument, "buffer smaller than a frame");
  if (f.payload_len > kPayloadMax)
    return Status::error(Code::kBadLength, "payload longer than a frame holds");
  uint8_t* b = out.data();
  memset(b, 0, kFrameSize);
  store_le16(b, kMagic);
  b[2] = kAbiVersion;
  b[3] = static_cast<uint8_t>(f.call);
  b[4] = f.response ? kFlagResponse : 0;
  b[5] = static_cast<uint8_t>(f.status);
  store_le16(b + 6, f.payload_len);
  store_le32(b + 8, f.id);
  for (size_t i = 0; i < 4; ++i)
    store_le32(b + 12 + 4 * i, f.values[i]);
  memcpy(b + kHeaderSize, f.payload, f.payload_len);
  return Status::ok();
}

Result<Frame> decode(ConstByteSpan m, bool expect_response) {
  if (m.size() != kFrameSize) {
    return Status::error(Code::kBadLength, "system-call frame is not 512 bytes",
                         static_cast<uint32_t>(m.size()));
  }
  const uint8_t* b = m.data();
  if (load_le16(b) != kMagic) return Status::error(Code::kBadMagic, "system-call frame has no magic 0x5350");
  if (b[2] != kAbiVersion) return Status::error(Code::kUnsupported, "system-call ABI version is not 1", b[2]);
  if (b[3] == 0 || b[3] > kLastCall) return Status::error(Code::kUnsupported, "unknown system call", b[3]);
  if ((b[4] & ~kFlagResponse) != 0 || load_le32(b + 28) != 0) {
    return Status::error(Code::kInvalidArgument, "system-call frame has reserved bits set");
  }
  Frame f;
  f.call = static_cast<Call>(b[3]);
  f.response = (b[4] & kFlagResponse) != 0;
  if (f.response != expect_response) {
    return Status::error(Code::kInvalidArgument, expect_response ? "expected a response, got a request"
                                                                 : "expected a request, got a response");
  }
  if (b[5] > static_cast<uint8_t>(kLastCode) || (!f.response && b[5] != 0)) {
    return Status::error(Code::kInvalidArgument, "system-call frame status is not a known code", b[5]);
  }
  f.status = static_cast<Code>(b[5]);
  f.payload_len = load_le16(b + 6);
  if (f.payload_len > kPayloadMax) return Status::error(Code::kBadLength, "payload length exceeds the frame");
  f.id = load_le32(b + 8);
  for (size_t i = 0; i < 4; ++i)
    f.values[i] = load_le32(b + 12 + 4 * i);
  memcpy(f.payload, b + kHeaderSize, f.payload_len);
  for (size_t i = kHeaderSize + f.payload_len; i < kFrameSize; ++i) {
    if (b[i] != 0) return Status::error(Code::kTrailingData, "bytes after the payload are not zero");
  }
  if (takes_string(f.call) ||
      (f.response && (f.call == Call::kAppInfo || f.call == Call::kOtaStatus || f.call == Call::kFleetOffer)))
    PRIVOTA_TRY(check_string(f));
  if (!f.response) PRIVOTA_TRY(check_request(f));
  return f;
}

}  // namespace syscall
}  // namespace privota
