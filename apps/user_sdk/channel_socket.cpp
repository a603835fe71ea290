// The SDK's channel on Linux: the SOCK_SEQPACKET socket the protected app left at PRIVOTA_CHANNEL_FD.
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "privota/user.h"
#include "user_channel.h"
#include "user_sdk_testing.h"

namespace privota::user {
namespace {

using syscall::Frame;

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

}  // namespace

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

void set_channel_fd(int fd) {
  Lock lock;
  g_fd = fd;
  g_next_id = 1;
}

}  // namespace privota::user
