// The user-app SDK: each call is one request frame out and the matching response frame back
// (privota/syscall.h), over the platform's channel to the protected app (user_channel.h: a socket on Linux,
// an ecall on rv32).
//
// Written without the STL or exceptions on purpose: the library then needs only libc, so a user app written
// in C links it with nothing more, and a dynamically linked C++ user app stays small.
#include "privota/user.h"

#include <string.h>

#include "privota/app_image.h"
#include "privota/fleet_offer.h"
#include "privota/ota_data.h"
#include "privota/ota_job.h"
#include "privota/status.h"
#include "privota/syscall.h"
#include "user_channel.h"

namespace privota::user {
namespace {

using syscall::Call;
using syscall::Frame;

// user.h is plain C, so it cannot use the core's enums; its numbers are the ABI and must stay equal to them.
constexpr bool same(int c_value, Code code) {
  return c_value == static_cast<int>(code);
}
constexpr bool same(unsigned c_value, JobState state) {
  return c_value == static_cast<unsigned>(state);
}
constexpr bool same(unsigned c_value, OtaState state) {
  return c_value == static_cast<uint32_t>(state);
}
constexpr bool same(int c_value, syscall::LogLevel level) {
  return c_value == static_cast<int>(level);
}

// Refusals: every privota::Code, and none beyond the last.
static_assert(same(PRIVOTA_OK, Code::kOk));
static_assert(same(PRIVOTA_E_INVALID_ARGUMENT, Code::kInvalidArgument));
static_assert(same(PRIVOTA_E_OUT_OF_BOUNDS, Code::kOutOfBounds));
static_assert(same(PRIVOTA_E_MISALIGNED, Code::kMisaligned));
static_assert(same(PRIVOTA_E_IO_ERROR, Code::kIoError));
static_assert(same(PRIVOTA_E_POWER_LOST, Code::kPowerLost));
static_assert(same(PRIVOTA_E_TRUNCATED, Code::kTruncated));
static_assert(same(PRIVOTA_E_BAD_MAGIC, Code::kBadMagic));
static_assert(same(PRIVOTA_E_BAD_CHECKSUM, Code::kBadChecksum));
static_assert(same(PRIVOTA_E_BAD_HASH, Code::kBadHash));
static_assert(same(PRIVOTA_E_BAD_LENGTH, Code::kBadLength));
static_assert(same(PRIVOTA_E_LIMIT_EXCEEDED, Code::kLimitExceeded));
static_assert(same(PRIVOTA_E_OVERLAP, Code::kOverlap));
static_assert(same(PRIVOTA_E_DUPLICATE, Code::kDuplicate));
static_assert(same(PRIVOTA_E_NOT_FOUND, Code::kNotFound));
static_assert(same(PRIVOTA_E_UNSUPPORTED, Code::kUnsupported));
static_assert(same(PRIVOTA_E_BAD_STATE, Code::kBadState));
static_assert(same(PRIVOTA_E_TRAILING_DATA, Code::kTrailingData));
static_assert(same(PRIVOTA_E_BAD_SIGNATURE, Code::kBadSignature));
static_assert(same(PRIVOTA_E_UNTRUSTED, Code::kUntrusted));
static_assert(same(PRIVOTA_E_ROLLBACK, Code::kRollback));
static_assert(same(PRIVOTA_E_URL_TOO_LONG, Code::kUrlTooLong));
static_assert(same(PRIVOTA_E_URL_MALFORMED, Code::kUrlMalformed));
static_assert(same(PRIVOTA_E_URL_BAD_CHARACTER, Code::kUrlBadCharacter));
static_assert(same(PRIVOTA_E_URL_USERINFO, Code::kUrlUserinfo));
static_assert(same(PRIVOTA_E_URL_SCHEME_NOT_ALLOWED, Code::kUrlSchemeNotAllowed));
static_assert(same(PRIVOTA_E_URL_HOST_NOT_ALLOWED, Code::kUrlHostNotAllowed));
static_assert(same(PRIVOTA_E_URL_PORT_NOT_ALLOWED, Code::kUrlPortNotAllowed));
static_assert(same(PRIVOTA_E_BUSY, Code::kBusy));
static_assert(same(PRIVOTA_E_CANCELLED, Code::kCancelled));
static_assert(same(PRIVOTA_E_TIMEOUT, Code::kTimeout));
static_assert(same(PRIVOTA_E_NETWORK, Code::kNetwork));
static_assert(same(PRIVOTA_E_HTTP_STATUS, Code::kHttpStatus));
static_assert(same(PRIVOTA_E_TOO_MANY_REDIRECTS, Code::kTooManyRedirects));
static_assert(same(PRIVOTA_E_TLS_NAME_MISMATCH, Code::kTlsNameMismatch));
static_assert(same(PRIVOTA_E_TLS_ERROR, Code::kTlsError));
static_assert(same(PRIVOTA_E_WRONG_CHIP, Code::kWrongChip));
static_assert(same(PRIVOTA_E_NOT_NEWER, Code::kNotNewer));
static_assert(same(PRIVOTA_E_TOO_SLOW, Code::kTooSlow));
static_assert(same(PRIVOTA_E_JOB_DEADLINE, Code::kJobDeadline));
static_assert(same(PRIVOTA_E_JOB_DEADLINE, kLastCode));
// Job states (privota_ota_status_t.state).
static_assert(same(PRIVOTA_OTA_QUEUED, JobState::kQueued));
static_assert(same(PRIVOTA_OTA_CONNECTING, JobState::kConnecting));
static_assert(same(PRIVOTA_OTA_DOWNLOADING, JobState::kDownloading));
static_assert(same(PRIVOTA_OTA_VERIFYING, JobState::kVerifying));
static_assert(same(PRIVOTA_OTA_ACTIVATING, JobState::kActivating));
static_assert(same(PRIVOTA_OTA_REBOOTING, JobState::kRebooting));
static_assert(same(PRIVOTA_OTA_FAILED, JobState::kFailed));
static_assert(same(PRIVOTA_OTA_CANCELLED, JobState::kCancelled));
// Slot states (privota_app_info_t.state): esp_ota_img_states_t.
static_assert(same(PRIVOTA_APP_NEW, OtaState::kNew));
static_assert(same(PRIVOTA_APP_PENDING_VERIFY, OtaState::kPendingVerify));
static_assert(same(PRIVOTA_APP_VALID, OtaState::kValid));
static_assert(same(PRIVOTA_APP_INVALID, OtaState::kInvalid));
static_assert(same(PRIVOTA_APP_ABORTED, OtaState::kAborted));
static_assert(same(PRIVOTA_APP_UNDEFINED, OtaState::kUndefined));
// Log levels, and the frame's limits.
static_assert(same(PRIVOTA_LOG_ERROR, syscall::LogLevel::kError));
static_assert(same(PRIVOTA_LOG_WARN, syscall::LogLevel::kWarn));
static_assert(same(PRIVOTA_LOG_INFO, syscall::LogLevel::kInfo));
static_assert(same(PRIVOTA_LOG_DEBUG, syscall::LogLevel::kDebug));
static_assert(same(PRIVOTA_LOG_VERBOSE, syscall::LogLevel::kVerbose));
static_assert(PRIVOTA_LOG_VERBOSE == syscall::kMaxLogLevel);
static_assert(PRIVOTA_MAX_STRING == syscall::kPayloadMax - 1);
static_assert(PRIVOTA_REASON_MAX == syscall::kReasonMax);
static_assert(PRIVOTA_RUNNING_SLOT == syscall::kRunningSlot);
static_assert(sizeof(privota_app_info_t::project) == sizeof(AppDescriptor::project_name));
static_assert(sizeof(privota_app_info_t::version) == sizeof(AppDescriptor::version));
static_assert(PRIVOTA_WATCHDOG_MIN_MS == syscall::kMinWatchdogMs);
static_assert(PRIVOTA_WATCHDOG_MAX_MS == syscall::kMaxWatchdogMs);
static_assert(PRIVOTA_FLEET_ACCEPT == syscall::kFleetAccept);
static_assert(PRIVOTA_FLEET_DEFER == syscall::kFleetDefer);
static_assert(PRIVOTA_FLEET_JOB_ID_MAX == FleetOffer::kJobIdMax);
static_assert(sizeof(privota_fleet_offer_t::version) > FleetOffer::kVersionMax);

int simple_call(Call which, uint32_t value0 = 0) {
  Frame request;
  request.call = which;
  request.values[0] = value0;
  Frame response;
  return call(request, &response);
}

int string_call(Call which, uint32_t value0, const char* text) {
  if (text == nullptr) return PRIVOTA_E_INVALID_ARGUMENT;
  Frame request;
  request.call = which;
  request.values[0] = value0;
  if (const Status s = request.set_string(text); !s.is_ok()) return static_cast<int>(s.code());
  Frame response;
  return call(request, &response);
}

// Copies `len` bytes into a fixed field (and its NUL); false when they do not fit (never truncates).
template <size_t N>
bool copy_field(char (&field)[N], const char* text, size_t len) {
  if (len > N - 1) return false;
  memcpy(field, text, len);
  field[len] = '\0';
  return true;
}

}  // namespace
}  // namespace privota::user

using namespace privota;
using namespace privota::user;

extern "C" {

int privota_ota_start(const char* url, uint32_t* job_id) {
  if (url == nullptr || job_id == nullptr) return PRIVOTA_E_INVALID_ARGUMENT;
  syscall::Frame request;
  request.call = syscall::Call::kOtaStart;
  if (const Status s = request.set_string(url); !s.is_ok()) return static_cast<int>(s.code());
  syscall::Frame response;
  const int result = call(request, &response);
  if (result == PRIVOTA_OK || result == PRIVOTA_E_BUSY) *job_id = response.values[0];
  return result;
}

int privota_ota_status(uint32_t job_id, privota_ota_status_t* out) {
  if (out == nullptr) return PRIVOTA_E_INVALID_ARGUMENT;
  syscall::Frame request;
  request.call = syscall::Call::kOtaStatus;
  request.values[0] = job_id;
  syscall::Frame response;
  const int result = call(request, &response);
  if (result != PRIVOTA_OK) return result;
  if (response.values[3] > static_cast<uint32_t>(kLastCode)) return PRIVOTA_ERR_PROTOCOL;
  privota_ota_status_t status{};
  status.state = response.values[0];
  status.bytes_done = response.values[1];
  status.bytes_total = response.values[2];
  status.error = static_cast<int>(response.values[3]);
  // The reason text (decode() checked its NUL); one that does not fit is a protocol error, never cut.
  const size_t len = response.payload_len == 0 ? 0 : strlen(response.string());
  if (len > PRIVOTA_REASON_MAX) return PRIVOTA_ERR_PROTOCOL;
  memcpy(status.reason, response.payload_len == 0 ? "" : response.string(), len + 1);
  *out = status;
  return PRIVOTA_OK;
}

int privota_ota_cancel(uint32_t job_id) {
  return simple_call(syscall::Call::kOtaCancel, job_id);
}

int privota_ota_mark_valid(void) {
  return simple_call(syscall::Call::kOtaMarkValid);
}

int privota_ota_mark_invalid_and_reboot(void) {
  return simple_call(syscall::Call::kOtaMarkInvalidAndReboot);
}

int privota_app_info(uint32_t slot, privota_app_info_t* out) {
  if (out == nullptr) return PRIVOTA_E_INVALID_ARGUMENT;
  syscall::Frame request;
  request.call = syscall::Call::kAppInfo;
  request.values[0] = slot;
  syscall::Frame response;
  const int result = call(request, &response);
  if (result != PRIVOTA_OK) return result;
  // The payload is "project version" (decode() checked its NUL); the project name has no spaces.
  const char* text = response.payload_len == 0 ? "" : response.string();
  const char* space = strchr(text, ' ');
  privota_app_info_t info{};
  info.slot = response.values[0];
  info.secure_version = response.values[1];
  info.state = response.values[2];
  info.running = response.values[3] != 0;
  if (space == nullptr || !copy_field(info.project, text, static_cast<size_t>(space - text)) ||
      !copy_field(info.version, space + 1, strlen(space + 1))) {
    return PRIVOTA_ERR_PROTOCOL;
  }
  *out = info;
  return PRIVOTA_OK;
}

int privota_log(int level, const char* text) {
  if (level < 0 || level > PRIVOTA_LOG_VERBOSE) return PRIVOTA_E_INVALID_ARGUMENT;
  return string_call(syscall::Call::kLog, static_cast<uint32_t>(level), text);
}

int privota_restart(void) {
  return simple_call(syscall::Call::kRestart);
}

int privota_watchdog_arm(uint32_t period_ms) {
  if (period_ms != 0 && (period_ms < PRIVOTA_WATCHDOG_MIN_MS || period_ms > PRIVOTA_WATCHDOG_MAX_MS))
    return PRIVOTA_E_INVALID_ARGUMENT;
  return simple_call(syscall::Call::kWatchdogArm, period_ms);
}

int privota_watchdog_feed(void) {
  return simple_call(syscall::Call::kWatchdogFeed);
}

int privota_fleet_offer(privota_fleet_offer_t* out) {
  if (out == nullptr) return PRIVOTA_E_INVALID_ARGUMENT;
  syscall::Frame request;
  request.call = syscall::Call::kFleetOffer;
  syscall::Frame response;
  const int result = call(request, &response);
  if (result != PRIVOTA_OK) return result;
  // The payload is "job_id version" (decode() checked its NUL); a job id has no spaces.
  const char* text = response.payload_len == 0 ? "" : response.string();
  const char* space = strchr(text, ' ');
  privota_fleet_offer_t offer{};
  if (space == nullptr || space == text ||
      !copy_field(offer.job_id, text, static_cast<size_t>(space - text)) ||
      !copy_field(offer.version, space + 1, strlen(space + 1))) {
    return PRIVOTA_ERR_PROTOCOL;
  }
  *out = offer;
  return PRIVOTA_OK;
}

int privota_fleet_answer(const char* job_id, int answer) {
  if (job_id == nullptr || job_id[0] == '\0' || strlen(job_id) > PRIVOTA_FLEET_JOB_ID_MAX ||
      (answer != PRIVOTA_FLEET_ACCEPT && answer != PRIVOTA_FLEET_DEFER)) {
    return PRIVOTA_E_INVALID_ARGUMENT;
  }
  return string_call(syscall::Call::kFleetAnswer, static_cast<uint32_t>(answer), job_id);
}

const char* privota_error_name(int error) {
  switch (error) {
    case PRIVOTA_ERR_CLOSED:
      return "channel_closed";
    case PRIVOTA_ERR_IO:
      return "channel_io_error";
    case PRIVOTA_ERR_SHORT_READ:
      return "channel_short_read";
    case PRIVOTA_ERR_PROTOCOL:
      return "channel_protocol_error";
    default:
      break;
  }
  if (error < 0 || error > static_cast<int>(kLastCode)) return "unknown";
  return code_name(static_cast<Code>(error));
}

}  // extern "C"
