// Status: the outcome of every fallible call in the core.
//
// A status is one code from a single enum plus a short static reason (never owned, never formatted), and an
// optional number (an offset, an index) that makes the reason precise. Tools turn it into one readable line.
//
// PRIVOTA_STATUS_WITHOUT_REASONS (a build-time switch, set only by the rv32 bootloader's build, which must
// fit the ESP32-C3's 32 KiB bootloader region): statuses keep their code and detail but no reason text, so
// the texts are not in the program (reason() is ""). Every other build keeps its words.
#pragma once

#include <stdint.h>

namespace privota {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,  // the caller passed something the API does not accept
  kOutOfBounds = 2,      // an address or length reaches outside the flash or region
  kMisaligned = 3,       // an erase or offset is not on the boundary the format or device requires
  kIoError = 4,          // the flash device itself failed
  kPowerLost = 5,        // the (simulated) power went away; nothing more can be done until reboot
  kTruncated = 6,        // the input ended before the structure did
  kBadMagic = 7,         // a structure does not start with its magic number
  kBadChecksum = 8,      // a checksum byte or CRC does not match
  kBadHash = 9,          // a digest (MD5, SHA-256) does not match
  kBadLength = 10,       // a length field is impossible (zero, too large, past the end)
  kLimitExceeded = 11,   // more entries/segments/bytes than the format or our limits allow
  kOverlap = 12,         // two partitions share bytes
  kDuplicate = 13,       // a name that must be unique is not
  kNotFound = 14,        // the thing looked up does not exist
  kUnsupported = 15,     // a valid value that this build does not handle
  kBadState = 16,        // the call is not allowed in the object's current state
  kTrailingData = 17,    // bytes follow a structure where none may
  kBadSignature = 18,    // a signature does not verify with its key
  kUntrusted = 19,       // a key or certificate is not one the device trusts
  kRollback = 20,        // an image's secure_version is below the device's anti-rollback minimum
  // URL policy refusals (core/url_policy), one each so that a user app can tell them apart.
  kUrlTooLong = 21,           // longer than the policy allows (never truncated)
  kUrlMalformed = 22,         // not scheme://host[:port]/path[?query]
  kUrlBadCharacter = 23,      // a space, control or non-ASCII character, or a bad %-escape
  kUrlUserinfo = 24,          // user:password@ in the URL
  kUrlSchemeNotAllowed = 25,  // e.g. http when only https is allowed
  kUrlHostNotAllowed = 26,    // host not on the allow-list
  kUrlPortNotAllowed = 27,    // port not on the allow-list
  // OTA job outcomes (core/ota_job and the port's transport), one each so that ota_status can say why.
  kBusy = 28,              // another OTA job is running (detail: its job id)
  kCancelled = 29,         // the job was cancelled by the user app
  kTimeout = 30,           // the server did not connect, or stopped sending, within the configured time
  kNetwork = 31,           // the connection could not be made or broke (refused, reset, name not resolved)
  kHttpStatus = 32,        // the server answered with a status the job cannot use (detail: the status)
  kTooManyRedirects = 33,  // more redirects than the job follows
  kTlsNameMismatch = 34,   // the server's certificate is valid but not for the host in the URL
  kTlsError = 35,          // the TLS handshake failed for another reason (protocol version, cipher, alert)
  kWrongChip = 36,         // the image is built for another chip (detail: its chip id)
  kNotNewer = 37,          // the image's version is not newer than the running app's
  kTooSlow = 38,           // the server sent fewer than the low-speed limit's bytes in its window
  kJobDeadline = 39,       // the OTA job ran longer than its deadline
};

// The highest code: decoders of codes received from elsewhere check against it.
constexpr Code kLastCode = Code::kJobDeadline;

// Stable lower-case name of a code, for logs and --json output.
const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;

  static constexpr Status ok() { return Status(); }
#ifdef PRIVOTA_STATUS_WITHOUT_REASONS
  static constexpr Status error(Code code, const char* /*reason*/, uint32_t detail = 0) {
    return Status(code, detail);
  }
#else
  static constexpr Status error(Code code, const char* reason, uint32_t detail = 0) {
    return Status(code, reason, detail);
  }
#endif

  constexpr bool is_ok() const {
    return code_ == Code::kOk;
  }
  constexpr Code code() const {
    return code_;
  }
  // A number that locates the problem (offset, index); 0 when the reason says all.
  constexpr uint32_t detail() const {
    return detail_;
  }

#ifdef PRIVOTA_STATUS_WITHOUT_REASONS
  constexpr const char* reason() const {
    return "";
  }

 private:
  constexpr Status(Code code, uint32_t detail) : code_(code), detail_(detail) {}
#else
  // Always a valid string: "ok" when is_ok().
  constexpr const char* reason() const {
    return reason_;
  }

 private:
  constexpr Status(Code code, const char* reason, uint32_t detail)
      : code_(code), reason_(reason), detail_(detail) {}
#endif

  Code code_ = Code::kOk;
#ifndef PRIVOTA_STATUS_WITHOUT_REASONS
  const char* reason_ = "ok";
#endif
  uint32_t detail_ = 0;
};

}  // namespace privota

// Returns early from the enclosing function when `expr` is not ok; the status (or a Result built from it)
// is what the caller gets.
#define PRIVOTA_TRY(expr)                                       \
  do {                                                          \
    const ::privota::Status privota_try_status = (expr);        \
    if (!privota_try_status.is_ok()) return privota_try_status; \
  } while (0)
