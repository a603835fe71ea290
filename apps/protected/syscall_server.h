// SyscallServer: the protected app's end of a user app's channel. Receives one message at a time, decodes
// it with the core's strict decoder, hands a valid request to the handler and sends the handler's answer.
// A malformed message (any size, any content) gets an error answer and is counted; it never ends the loop.
#pragma once

#include <cstdint>
#include <string>

#include "privota/syscall.h"

namespace privota::protected_app {

class SyscallHandler {
 public:
  // Fills `response` (call, id and response flag are already set).
  virtual void handle(const syscall::Frame& request, syscall::Frame& response) = 0;

 protected:
  ~SyscallHandler() = default;
};

class SyscallServer {
 public:
  enum class Outcome { kServed, kMalformed, kClosed };

  explicit SyscallServer(int channel_fd) : fd_(channel_fd) {}

  // Serves the message that is waiting (call when the channel polls readable).
  Outcome serve_one(SyscallHandler& handler);
  uint32_t malformed() const { return malformed_; }
  // Why the last malformed message was refused.
  const char* last_refusal() const { return last_refusal_; }

 private:
  bool peer_gone() const;
  bool send_frame(const syscall::Frame& frame);

  int fd_;
  uint32_t malformed_ = 0;
  const char* last_refusal_ = "";
};

}  // namespace privota::protected_app
