// SyscallChannel: the protected app's end of a user app's SOCK_SEQPACKET channel, as bytes. What a message
// means is the core's SyscallService; this only receives one message at a time (any size: never cut to fit)
// and sends one answer frame without ever blocking on the user app.
#pragma once

#include <cstddef>
#include <cstdint>

#include "privota/span.h"
#include "privota/syscall.h"

namespace privota::protected_app {

class SyscallChannel {
 public:
  enum class Receive { kMessage, kNothing, kClosed };

  explicit SyscallChannel(int fd) : fd_(fd) {}

  // One waiting message into `buffer` (kFrameSize + 1 bytes, so an oversized message is seen as such);
  // `size` is its length, at most the buffer's.
  Receive receive(ByteSpan buffer, size_t& size);
  // A user app that does not read its answers only loses them; it cannot block the protected app.
  bool send(ConstByteSpan frame);

 private:
  bool peer_gone() const;

  int fd_;
};

}  // namespace privota::protected_app
