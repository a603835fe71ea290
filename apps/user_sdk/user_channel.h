// How the SDK reaches the protected app: one request frame out, the matching response frame back. One
// implementation per platform, chosen by the build: a SOCK_SEQPACKET socket on Linux (channel_socket.cpp),
// an ecall on the rv32 device (channel_ecall.cpp).
#pragma once

#include "privota/syscall.h"

namespace privota::user {

// Sends `request` (its id is assigned here) and waits for its response. Returns a PRIVOTA_ERR_* transport
// error, or the status the protected app answered with; `*response` holds the answer when the result is >= 0.
int call(syscall::Frame& request, syscall::Frame* response);

}  // namespace privota::user
