#include "user_app_process.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace privota::protected_app {

Result<UserAppProcess> launch_user_app(const std::vector<uint8_t>& executable,
                                       const host::UserAppConfig& config, const std::string& name) {
  int channel[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0)
    return Status::error(Code::kIoError, "socketpair for the user app channel failed", errno);
  Fd ours(channel[0]);
  Fd theirs(channel[1]);
  // stdout and stderr are stream sockets, not pipes: the launcher refuses pipes for a sandboxed app, which
  // could reopen one through /proc/self/fd and read its own lines back.
  int out[2];
  int err[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) != 0)
    return Status::error(Code::kIoError, "socketpair for user app stdout failed", errno);
  Fd out_read(out[0]);
  Fd out_write(out[1]);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err) != 0)
    return Status::error(Code::kIoError, "socketpair for user app stderr failed", errno);
  Fd err_read(err[0]);
  Fd err_write(err[1]);
  // One way only, as a pipe was.
  shutdown(out_read.get(), SHUT_WR);
  shutdown(err_read.get(), SHUT_WR);

  host::LaunchOptions options;
  options.argv.push_back(name);
  options.argv.insert(options.argv.end(), config.args.begin(), config.args.end());
  // stdin stays closed: a user app reads nothing but its channel.
  options.fds = {{out_write.get(), 1}, {err_write.get(), 2}, {theirs.get(), host::kChannelFd}};
  host::SandboxPolicy sandbox;
  sandbox.address_space_bytes = uint64_t{config.memory_mib} << 20;
  sandbox.cpu_seconds = config.cpu_seconds;
  sandbox.allow_degraded = config.sandbox_allow_degraded;
  options.sandbox = sandbox;
  Result<host::Child> child = host::launch_from_memory(executable, options);
  if (!child.is_ok()) return child.status();
  UserAppProcess process;
  process.child = std::move(child.value());
  process.channel = std::move(ours);
  process.out = std::move(out_read);
  process.err = std::move(err_read);
  // Non-blocking reads of the pipes: a chatty app must never stall the system-call loop.
  fcntl(process.out.get(), F_SETFL, O_NONBLOCK);
  fcntl(process.err.get(), F_SETFL, O_NONBLOCK);
  return process;
}

}  // namespace privota::protected_app
