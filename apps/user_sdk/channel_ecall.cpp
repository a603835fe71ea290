// The SDK's channel on the rv32 device: an ecall that hands the protected firmware the request frame and a
// buffer for its response (privota/rv32/user_ecall.h). The firmware checks both pointers against the user
// region; a refusal comes back in a0 instead of a response frame.
#include "privota/rv32/user_ecall.h"
#include "privota/user.h"
#include "user_channel.h"

namespace privota::user {
namespace {

uint32_t g_next_id = 1;
// A user app is one hart and no threads: one conversation at a time by construction.
alignas(4) uint8_t g_request[syscall::kFrameSize];
alignas(4) uint8_t g_response[syscall::kFrameSize];

}  // namespace

int call(syscall::Frame& request, syscall::Frame* response) {
  request.response = false;
  request.status = Code::kOk;
  request.id = g_next_id++;
  if (!syscall::encode(request, g_request).is_ok()) return PRIVOTA_ERR_PROTOCOL;
  const int refused = rv32::user_ecall(g_request, g_response);
  if (refused != 0) return refused;
  const Result<syscall::Frame> decoded = syscall::decode(g_response, /*expect_response=*/true);
  if (!decoded.is_ok()) return PRIVOTA_ERR_PROTOCOL;
  if (decoded->id != request.id || decoded->call != request.call) return PRIVOTA_ERR_PROTOCOL;
  *response = decoded.value();
  return static_cast<int>(response->status);
}

}  // namespace privota::user
