// ProcessLauncher: runs an executable held in memory (an app image's payload) as a new process.
//
// The bytes go into a sealed memfd (nothing on disk, nothing can change them after the check), the child
// keeps only the fds it is given, at fixed numbers, optionally enters the sandbox (privota/host/sandbox.h),
// and fexecve()s the memfd. Used by the sim's bootloader (protected app, no sandbox) and by the protected app
// (user app, sandboxed, one SOCK_SEQPACKET channel at fd 3).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "privota/host/sandbox.h"
#include "privota/result.h"

namespace privota::host {

// The fd a launched user app finds its channel to the protected app on.
inline constexpr int kChannelFd = 3;

struct FdMapping {
  int source = -1;  // an fd of the caller
  int target = -1;  // the number it has in the child (< kLauncherFirstPrivateFd)
};

// Fds at and above this number are the launcher's own in the child (the memfd, the exec-error pipe).
inline constexpr int kLauncherFirstPrivateFd = 100;

struct LaunchOptions {
  std::vector<std::string> argv;  // argv[0] is the program's name; empty means {"app"}
  // The complete environment of the child. Minimal on purpose: nothing of the caller's leaks through.
  std::vector<std::string> env = {"LC_ALL=C"};
  std::vector<FdMapping> fds;            // every other fd is closed in the child
  std::optional<SandboxPolicy> sandbox;  // exec_fd is filled in by the launcher
};

struct ExitStatus {
  enum class Kind : uint8_t { kRunning, kExited, kSignaled };
  Kind kind = Kind::kRunning;
  int code = 0;    // exit code when kExited
  int signal = 0;  // signal number when kSignaled

  bool running() const { return kind == Kind::kRunning; }
  bool exited(int expected) const { return kind == Kind::kExited && code == expected; }
  bool signaled(int expected) const { return kind == Kind::kSignaled && signal == expected; }
};

// A launched process. Move-only; a child still running when its Child dies is killed and reaped, so no
// process outlives the object that launched it.
class Child {
 public:
  Child() = default;
  Child(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // Waits up to `timeout` for the child to end; kRunning if it has not. Once it ended, returns the same
  // status again on every call.
  Result<ExitStatus> wait(std::chrono::milliseconds timeout);
  // Sends `signal` (SIGKILL by default). Through a pidfd, so it can never hit a recycled pid.
  Status kill(int signal = 9);

 private:
  void reset();

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<ExitStatus> ended_;
};

// Launches `executable` (an ELF file's bytes). Fails with kIoError when the kernel refuses a step before the
// child exists, and also when the child could not set up its fds, enter the sandbox or exec (the reason says
// which, the detail is the child's errno); in those cases the child has already been reaped.
Result<Child> launch_from_memory(std::span<const uint8_t> executable, const LaunchOptions& options);

}  // namespace privota::host
