#include "syscall_channel.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace privota::protected_app {

// A zero-length SOCK_SEQPACKET message also reads as 0 bytes: only a hung-up peer is the end.
bool SyscallChannel::peer_gone() const {
  pollfd p{fd_, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
}

bool SyscallChannel::send(ConstByteSpan frame) {
  ssize_t n;
  do {
    n = ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(frame.size());
}

SyscallChannel::Receive SyscallChannel::receive(ByteSpan buffer, size_t& size) {
  ssize_t n;
  do {
    // MSG_TRUNC: the message's real length, so an oversized one is refused as such, never cut to fit.
    n = recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Receive::kNothing;
  if (n < 0 || (n == 0 && peer_gone())) return Receive::kClosed;
  size = static_cast<size_t>(n) < buffer.size() ? static_cast<size_t>(n) : buffer.size();
  return Receive::kMessage;
}

}  // namespace privota::protected_app
