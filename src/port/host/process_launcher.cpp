#include "privota/host/process_launcher.h"

#include "privota/host/unique_fd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace privota::host {
namespace {

// In the child: the memfd to exec (>= any RLIMIT_NOFILE we set, see sandbox.h) and the socket that carries
// an error, or the sandbox's exec gate, back. Both close on exec.
constexpr int kExecFd = kLauncherFirstPrivateFd;
constexpr int kErrorFd = kLauncherFirstPrivateFd + 1;
// Where the child parks fds while it moves them into place, clear of every target and of the two above.
constexpr int kParkingFd = kLauncherFirstPrivateFd + 100;

// What the child sends back when it cannot exec. Stages name the Status reason in the parent.
enum class Stage : int32_t { kFds = 1, kSandbox = 2, kExec = 3 };
struct ChildError {
  Stage stage;
  int32_t error;  // errno, or for kSandbox the Status detail
};

using Fd = UniqueFd;

Status write_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(Code::kIoError, "writing the executable to a memfd failed", errno);
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return Status::ok();
}

// A sealed, close-on-exec memfd holding the executable: after the seals nobody (not even us) can change what
// gets executed.
Result<int> sealed_memfd(std::span<const uint8_t> executable) {
  Fd memfd(memfd_create("privota-app", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (memfd.get() < 0) return Status::error(Code::kIoError, "memfd_create failed", errno);
  PRIVOTA_TRY(write_all(memfd.get(), executable));
  if (fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    return Status::error(Code::kIoError, "sealing the memfd failed", errno);
  return memfd.release();
}

Status check_options(const LaunchOptions& options) {
  for (size_t i = 0; i < options.fds.size(); ++i) {
    const FdMapping& m = options.fds[i];
    if (m.source < 0 || m.target < 0 || m.target >= kLauncherFirstPrivateFd)
      return Status::error(Code::kInvalidArgument, "fd mapping out of range", static_cast<uint32_t>(i));
    if (options.sandbox && static_cast<uint32_t>(m.target) >= options.sandbox->max_open_files)
      return Status::error(Code::kInvalidArgument, "fd target not below the sandbox's max_open_files",
                           static_cast<uint32_t>(i));
    for (size_t j = 0; j < i; ++j)
      if (options.fds[j].target == m.target)
        return Status::error(Code::kDuplicate, "two fds mapped to the same target", static_cast<uint32_t>(i));
    // Opening /proc/self/fd/N of a pipe gives a new end of it (landlock does not cover pipes): an app could
    // read back what it writes to its log. A socket cannot be reopened that way.
    struct stat info {};
    if (options.sandbox && fstat(m.source, &info) == 0 && S_ISFIFO(info.st_mode))
      return Status::error(Code::kInvalidArgument,
                           "a sandboxed app gets sockets, not pipes (a pipe can be reopened through /proc)",
                           static_cast<uint32_t>(i));
  }
  if (options.sandbox && options.sandbox->max_open_files > static_cast<uint32_t>(kExecFd))
    return Status::error(Code::kInvalidArgument, "sandbox max_open_files must not exceed the exec fd");
  if (options.sandbox) PRIVOTA_TRY(check_kernel_support(*options.sandbox, landlock_abi_version()));
  return Status::ok();
}

// The parent waits at most this long for a sandboxed child to reach its exec once it has the gate.
constexpr int kExecGateTimeoutMs = 30000;

// Passes `fd` (the sandbox's exec gate) to the parent as SCM_RIGHTS on the report socket.
bool hand_over(int socket, int fd) {
  char byte = 'g';
  iovec data{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof fd);
  return sendmsg(socket, &message, MSG_NOSIGNAL) == 1;
}

// One message from the child: a ChildError (returns its size), the exec gate (`gate` set), or 0 at EOF,
// which means the exec closed the child's end (success) or the child died.
ssize_t receive_report(int socket, ChildError& report, int& gate) {
  gate = -1;
  iovec data{&report, sizeof report};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr; h = CMSG_NXTHDR(&message, h))
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) memcpy(&gate, CMSG_DATA(h), sizeof gate);
  return n;
}

[[noreturn]] void child_fail(Stage stage, int error) {
  const ChildError report{stage, error};
  [[maybe_unused]] ssize_t n = write(kErrorFd, &report, sizeof report);
  _exit(127);
}

// Runs in the forked child; never returns. Everything it touches was prepared by the parent.
[[noreturn]] void run_child(int memfd, int error_pipe, pid_t parent, const LaunchOptions& options,
                            char* const* argv, char* const* envp, const std::vector<int>& keep) {
  // Die with the parent: a reboot of the device is the chain ending, never an orphan left running.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);

  // Park every fd we keep above all targets first, so that moving one into place cannot clobber another.
  if (dup3(error_pipe, kErrorFd, O_CLOEXEC) < 0) _exit(127);
  // glibc resets malloc's locks in a forked child, so allocating here is safe even if the caller has threads.
  std::vector<int> parked(options.fds.size());
  for (size_t i = 0; i < options.fds.size(); ++i) {
    parked[i] = fcntl(options.fds[i].source, F_DUPFD_CLOEXEC, kParkingFd);
    if (parked[i] < 0) child_fail(Stage::kFds, errno);
  }
  if (dup3(memfd, kExecFd, O_CLOEXEC) < 0) child_fail(Stage::kFds, errno);
  for (size_t i = 0; i < options.fds.size(); ++i)
    if (dup2(parked[i], options.fds[i].target) < 0) child_fail(Stage::kFds, errno);  // clears CLOEXEC
  // Close everything not in `keep` (sorted, ends with kErrorFd).
  unsigned int next = 0;
  for (int fd : keep) {
    if (static_cast<unsigned int>(fd) > next &&
        syscall(SYS_close_range, next, static_cast<unsigned int>(fd) - 1, 0) != 0)
      child_fail(Stage::kFds, errno);
    next = static_cast<unsigned int>(fd) + 1;
  }
  if (syscall(SYS_close_range, next, ~0u, 0) != 0) child_fail(Stage::kFds, errno);

  // The caller's signal mask and ignored signals survive exec; the app starts clean instead.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig)
    signal(sig, SIG_DFL);

  if (options.sandbox) {
    SandboxPolicy policy = *options.sandbox;
    policy.exec_fd = kExecFd;
    const Result<int> gate = apply_sandbox(policy);
    if (!gate.is_ok()) child_fail(Stage::kSandbox, static_cast<int>(gate.status().detail()));
    // The parent opens the gate for the one exec below; our copy goes before any app code runs.
    if (gate.value() >= 0) {
      if (!hand_over(kErrorFd, gate.value())) child_fail(Stage::kSandbox, errno);
      close(gate.value());
    }
  }
  fexecve(kExecFd, argv, envp);
  child_fail(Stage::kExec, errno);
}

const char* stage_reason(Stage stage) {
  switch (stage) {
    case Stage::kFds:
      return "child could not set up its fds";
    case Stage::kSandbox:
      return "child could not enter the sandbox";
    case Stage::kExec:
      return "child could not exec the image";
  }
  return "child failed before exec";
}

}  // namespace

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::exchange(other.pidfd_, -1)), ended_(other.ended_) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    reset();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
    ended_ = other.ended_;
  }
  return *this;
}

Child::~Child() {
  reset();
}

void Child::reset() {
  if (pid_ > 0 && !ended_) {
    (void)kill();
    (void)wait(std::chrono::milliseconds(-1));
  }
  if (pidfd_ >= 0) close(pidfd_);
  pid_ = -1;
  pidfd_ = -1;
  ended_.reset();
}

Result<ExitStatus> Child::wait(std::chrono::milliseconds timeout) {
  if (ended_) return *ended_;
  if (pid_ <= 0) return Status::error(Code::kBadState, "no child to wait for");
  // The pidfd becomes readable when the child ends; a negative timeout waits for ever.
  pollfd pfd{pidfd_, POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return Status::error(Code::kIoError, "poll on pidfd failed", errno);
  if (ready == 0) return ExitStatus{};
  int raw = 0;
  pid_t got;
  do {
    got = waitpid(pid_, &raw, 0);
  } while (got < 0 && errno == EINTR);
  if (got != pid_) return Status::error(Code::kIoError, "waitpid failed", errno);
  ExitStatus status;
  if (WIFSIGNALED(raw)) {
    status.kind = ExitStatus::Kind::kSignaled;
    status.signal = WTERMSIG(raw);
  } else {
    status.kind = ExitStatus::Kind::kExited;
    status.code = WEXITSTATUS(raw);
  }
  ended_ = status;
  return status;
}

Status Child::kill(int signal) {
  if (pidfd_ < 0) return Status::error(Code::kBadState, "no child to signal");
  if (ended_) return Status::ok();
  if (syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0) != 0 && errno != ESRCH)
    return Status::error(Code::kIoError, "pidfd_send_signal failed", errno);
  return Status::ok();
}

Result<Child> launch_from_memory(std::span<const uint8_t> executable, const LaunchOptions& options) {
  if (executable.empty()) return Status::error(Code::kInvalidArgument, "empty executable");
  PRIVOTA_TRY(check_options(options));
  PRIVOTA_ASSIGN_OR_RETURN(const int raw_memfd, sealed_memfd(executable));
  Fd memfd(raw_memfd);
  int pipe_fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pipe_fds) != 0)
    return Status::error(Code::kIoError, "socketpair for the child's reports failed", errno);
  Fd error_read(pipe_fds[0]);
  Fd error_write(pipe_fds[1]);

  // Everything the child needs is built here: after fork it only moves fds and makes system calls.
  std::vector<std::string> arg_strings =
      options.argv.empty() ? std::vector<std::string>{"app"} : options.argv;
  std::vector<char*> argv;
  for (std::string& s : arg_strings)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = options.env;
  std::vector<char*> envp;
  for (std::string& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<int> keep;
  for (const FdMapping& m : options.fds)
    keep.push_back(m.target);
  keep.push_back(kExecFd);
  keep.push_back(kErrorFd);
  std::sort(keep.begin(), keep.end());

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status::error(Code::kIoError, "fork failed", errno);
  if (pid == 0) run_child(memfd.get(), error_write.get(), parent, options, argv.data(), envp.data(), keep);

  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return Status::error(Code::kIoError, "pidfd_open failed", errno);
  }
  Child child(pid, pidfd);
  // The pipe reaches EOF when exec closed the child's end (success) or the child died; a report means it
  // failed before running a single instruction of the app.
  (void)error_write.release();
  close(pipe_fds[1]);
  for (;;) {
    ChildError report{};
    int raw_gate = -1;
    const ssize_t n = receive_report(error_read.get(), report, raw_gate);
    if (raw_gate >= 0) {
      Fd gate(raw_gate);
      const Status approved = approve_one_exec(gate.get(), pid, kExecFd, kExecGateTimeoutMs);
      if (!approved.is_ok()) return approved;  // ~Child kills and reaps it
      continue;                                // closing the gate here: no second exec, ever
    }
    if (n == static_cast<ssize_t>(sizeof report)) {
      (void)child.wait(std::chrono::milliseconds(-1));
      return Status::error(Code::kIoError, stage_reason(report.stage), static_cast<uint32_t>(report.error));
    }
    return child;
  }
}

}  // namespace privota::host
