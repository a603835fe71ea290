// The system-call ABI between the user app and the protected app: fixed-size binary frames, one per
// SOCK_SEQPACKET message, the same layout both ways. Versioned; every field is checked on receipt, and a
// malformed frame is an error Status, never undefined behaviour.
//
//   +0  u16 magic 0x5350 ("PS")        +2  u8 ABI version (1)       +3  u8 call number
//   +4  u8 flags (bit 0 = response)     +5  u8 status (privota::Code, responses)   +6 u16 payload length
//   +8  u32 request id (echoed in the response)
//   +12 u32 values[4] (call-specific)   +28 u32 reserved, zero
//   +32 payload[480] (call-specific; strings are NUL-terminated inside the payload length)
//   always exactly 512 bytes
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/span.h"

namespace privota {
namespace syscall {

constexpr uint16_t kMagic = 0x5350;
constexpr uint8_t kAbiVersion = 1;
constexpr size_t kFrameSize = 512;
constexpr size_t kHeaderSize = 32;
constexpr size_t kPayloadMax = kFrameSize - kHeaderSize;
constexpr uint8_t kFlagResponse = 0x01;

enum class Call : uint8_t {
  kOtaStart = 1,      // payload: URL              -> values[0] job id
  kOtaStatus = 2,     // values[0] job id          -> values: state, bytes done, bytes total, error code;
                      //                              payload: reason text (may be empty)
  kOtaCancel = 3,     // values[0] job id
  kOtaMarkValid = 4,  //                           (the running user app confirms itself)
  kOtaMarkInvalidAndReboot = 5,  //
  kAppInfo = 6,        // values[0] slot or kRunningSlot -> values: slot, secure_version, state, running;
                       //                              payload: "project version"
  kLog = 7,            // values[0] level (0..4), payload: text
  kRestart = 8,        //
  kWatchdogArm = 9,    // values[0] period in ms (0 disarms; else kMinWatchdogMs..kMaxWatchdogMs)
  kWatchdogFeed = 10,  //
  kFleetOffer = 11,    //                           -> payload: "job_id version" of the fleet job offered to
                       //                              the user app (kNotFound: none offered)
  kFleetAnswer = 12,   // values[0] kFleetAccept or kFleetDefer, payload: the offered job's id
};
constexpr uint8_t kLastCall = static_cast<uint8_t>(Call::kFleetAnswer);
// kFleetAnswer's values[0] (ABI: user.h mirrors them as PRIVOTA_FLEET_*).
constexpr uint32_t kFleetAccept = 1;
constexpr uint32_t kFleetDefer = 2;
// A watchdog period shorter than a few scheduler rounds could only fire by accident; one over an hour is
// not a watchdog.
constexpr uint32_t kMinWatchdogMs = 100;
constexpr uint32_t kMaxWatchdogMs = 3600 * 1000;
constexpr uint32_t kRunningSlot = 0xFFFFFFFF;

// kLog's values[0]: the user app's log levels (ABI: user.h mirrors them as PRIVOTA_LOG_*).
enum class LogLevel : uint32_t {
  kError = 0,
  kWarn = 1,
  kInfo = 2,
  kDebug = 3,
  kVerbose = 4,
};
constexpr uint32_t kMaxLogLevel = static_cast<uint32_t>(LogLevel::kVerbose);

// Longest reason text kOtaStatus carries, without the NUL (user.h: PRIVOTA_REASON_MAX); a longer reason is
// left out, never cut.
constexpr size_t kReasonMax = 127;

const char* call_name(Call call);

struct Frame {
  Call call = Call::kRestart;
  bool response = false;
  Code status = Code::kOk;
  uint32_t id = 0;
  uint32_t values[4] = {};
  uint16_t payload_len = 0;
  uint8_t payload[kPayloadMax] = {};

  // Sets a NUL-terminated string payload; kLimitExceeded when it does not fit (never truncates).
  Status set_string(const char* text);
  // The payload as a string (validated frames only: decode() checked the NUL).
  const char* string() const { return reinterpret_cast<const char*>(payload); }
};

// Writes exactly kFrameSize bytes.
Status encode(const Frame& frame, ByteSpan out);

// Checks and decodes one received message. `expect_response`: what this side should be receiving.
// Refused: wrong size, magic, version, unknown call, wrong direction, reserved bits or bytes set, payload
// length over the maximum, a payload where the call takes none, a string payload without its NUL or with
// an embedded one, values out of range for the call.
Result<Frame> decode(ConstByteSpan message, bool expect_response);

}  // namespace syscall
}  // namespace privota
