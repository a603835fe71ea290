// The user-app SDK: each call is one request frame out and the matching response frame back, over the
// SOCK_SEQPACKET channel to the protected app (privota/syscall.h).
//
// Written without the STL or exceptions on purpose: the library then needs only libc, so a user app written
// in C links it with nothing more, and a dynamically linked C++ user app stays small.
#include "privota/user.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "privota/status.h"
#include "privota/syscall.h"
#include "user_sdk_testing.h"

namespace privota::user {
namespace {

using syscall::Call;
using syscall::Frame;

static_assert(PRIVOTA_E_INVALID_ARGUMENT == static_cast<int>(Code::kInvalidArgument));
static_assert(PRIVOTA_E_LIMIT_EXCEEDED == static_cast<int>(Code::kLimitExceeded));
static_assert(PRIVOTA_E_BAD_STATE == static_cast<int>(Code::kBadState));
static_assert(PRIVOTA_E_ROLLBACK == static_cast<int>(Code::kRollback));
static_assert(PRIVOTA_E_URL_PORT_NOT_ALLOWED == static_cast<int>(Code::kUrlPortNotAllowed));
static_assert(PRIVOTA_E_BUSY == static_cast<int>(Code::kBusy));
static_assert(PRIVOTA_E_TLS_NAME_MISMATCH == static_cast<int>(Code::kTlsNameMismatch));
static_assert(PRIVOTA_E_NOT_NEWER == static_cast<int>(Code::kNotNewer));
static_assert(PRIVOTA_E_TOO_SLOW == static_cast<int>(Code::kTooSlow));
static_assert(PRIVOTA_E_JOB_DEADLINE == static_cast<int>(kLastCode));
static_assert(PRIVOTA_MAX_STRING == syscall::kPayloadMax - 1);
static_assert(PRIVOTA_RUNNING_SLOT == syscall::kRunningSlot);
static_assert(PRIVOTA_LOG_VERBOSE == syscall::kMaxLogLevel);

// One conversation at a time: a response must follow its own request.
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
int g_fd = PRIVOTA_CHANNEL_FD;
uint32_t g_next_id = 1;

class Lock {
 public:
  Lock() { pthread_mutex_lock(&g_lock); }
  ~Lock() { pthread_mutex_unlock(&g_lock); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
};

int transport_error(int err) {
  return (err == EPIPE || err == ECONNRESET || err == EBADF || err == ENOTCONN || err == ENOTSOCK)
             ? PRIVOTA_ERR_CLOSED
             : PRIVOTA_ERR_IO;
}

int send_frame(const Frame& request) {
  uint8_t bytes[syscall::kFrameSize];
  if (!syscall::encode(request, {bytes, sizeof bytes}).is_ok()) return PRIVOTA_ERR_PROTOCOL;
  for (;;) {
    // MSG_NOSIGNAL: a closed channel is an error return, not a SIGPIPE that kills the app.
    const ssize_t n = send(g_fd, bytes, sizeof bytes, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof bytes)) return PRIVOTA_OK;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? transport_error(errno) : PRIVOTA_ERR_IO;
  }
}

int receive_frame(Frame* response) {
  // One byte more than a frame, and MSG_TRUNC, so an oversized message is seen as such and not cut to fit.
  uint8_t bytes[syscall::kFrameSize + 1];
  ssize_t n;
  do {
    n = recv(g_fd, bytes, sizeof bytes, MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return PRIVOTA_ERR_CLOSED;
  if (n < 0) return transport_error(errno);
  if (n != static_cast<ssize_t>(syscall::kFrameSize)) return PRIVOTA_ERR_SHORT_READ;
  const Result<Frame> decoded = syscall::decode({bytes, syscall::kFrameSize}, /*expect_response=*/true);
  if (!decoded.is_ok()) return PRIVOTA_ERR_PROTOCOL;
  *response = decoded.value();
  return PRIVOTA_OK;
}

// Sends `request` (its id is assigned here) and waits for its response. Returns the transport error, or the
// status the protected app answered with; `*response` holds the answer when the result is >= 0.
int call(Frame& request, Frame* response) {
  Lock lock;
  request.response = false;
  request.status = Code::kOk;
  request.id = g_next_id++;
  if (const int sent = send_frame(request); sent != PRIVOTA_OK) return sent;
  if (const int got = receive_frame(response); got != PRIVOTA_OK) return got;
  if (response->id != request.id || response->call != request.call) return PRIVOTA_ERR_PROTOCOL;
  return static_cast<int>(response->status);
}

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

// Copies `len` bytes into a PRIVOTA_APP_STRING_MAX field; false when they do not fit (never truncates).
bool copy_field(char (&field)[PRIVOTA_APP_STRING_MAX + 1], const char* text, size_t len) {
  if (len > PRIVOTA_APP_STRING_MAX) return false;
  memcpy(field, text, len);
  field[len] = '\0';
  return true;
}

}  // namespace

void set_channel_fd(int fd) {
  Lock lock;
  g_fd = fd;
  g_next_id = 1;
}

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
