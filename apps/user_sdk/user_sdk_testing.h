// Hooks for tests of the user-app SDK; a user app never needs them.
#pragma once

namespace privota::user {

// Points the SDK at another channel fd (the default is PRIVOTA_CHANNEL_FD) and restarts request ids at 1.
void set_channel_fd(int fd);

}  // namespace privota::user
