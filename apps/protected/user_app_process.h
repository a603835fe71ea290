// UserAppProcess: a running user app — the sandboxed child launched from its verified image, the
// SOCK_SEQPACKET channel it calls the protected app through (fd 3 in the child), and pipes that carry its
// stdout and stderr into the device log. The child holds nothing else: no flash, no network, no files.
#pragma once

#include <string>
#include <vector>

#include "privota/host/device_config.h"
#include "privota/host/process_launcher.h"
#include "privota/host/unique_fd.h"

namespace privota::protected_app {

using Fd = host::UniqueFd;

struct UserAppProcess {
  host::Child child;
  Fd channel;  // the protected app's end
  Fd out;      // read ends of the child's stdout and stderr
  Fd err;
};

// Launches `executable` (the payload of the verified user image) in the sandbox of `config`.
Result<UserAppProcess> launch_user_app(const std::vector<uint8_t>& executable,
                                       const host::UserAppConfig& config, const std::string& name);

}  // namespace privota::protected_app
