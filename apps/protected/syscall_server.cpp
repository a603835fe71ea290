#include "syscall_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace privota::protected_app {

// A zero-length SOCK_SEQPACKET message also reads as 0 bytes: only a hung-up peer is the end.
bool SyscallServer::peer_gone() const {
  pollfd p{fd_, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
}

bool SyscallServer::send_frame(const syscall::Frame& frame) {
  uint8_t bytes[syscall::kFrameSize];
  if (!syscall::encode(frame, {bytes, sizeof bytes}).is_ok()) return false;
  ssize_t n;
  do {
    n = send(fd_, bytes, sizeof bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  // A user app that does not read its answers only loses them; it cannot block the protected app.
  return n == static_cast<ssize_t>(sizeof bytes);
}

SyscallServer::Outcome SyscallServer::serve_one(SyscallHandler& handler) {
  // One byte more than a frame, with MSG_TRUNC: an oversized message is seen as such, never cut to fit.
  uint8_t bytes[syscall::kFrameSize + 1];
  ssize_t n;
  do {
    n = recv(fd_, bytes, sizeof bytes, MSG_TRUNC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Outcome::kServed;
  if (n < 0 || (n == 0 && peer_gone())) return Outcome::kClosed;
  const size_t size = static_cast<size_t>(n) < sizeof bytes ? static_cast<size_t>(n) : sizeof bytes;
  const Result<syscall::Frame> request = syscall::decode({bytes, size}, /*expect_response=*/false);
  syscall::Frame response;
  response.response = true;
  if (!request.is_ok()) {
    ++malformed_;
    last_refusal_ = request.status().reason();
    // Nothing of a malformed frame can be trusted, not even its id: the answer carries only the refusal.
    response.call = syscall::Call::kLog;
    response.status = request.status().code();
    send_frame(response);
    return Outcome::kMalformed;
  }
  response.call = request->call;
  response.id = request->id;
  handler.handle(request.value(), response);
  send_frame(response);
  return Outcome::kServed;
}

}  // namespace privota::protected_app
