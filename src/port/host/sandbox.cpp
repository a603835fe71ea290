#include "privota/host/sandbox.h"

#include "privota/result.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <string>
#include <vector>

namespace privota::host {
namespace {

// Debian 12's <linux/landlock.h> stops at ABI 2; the kernel we run on knows more. Values from the kernel's
// include/uapi/linux/landlock.h.
constexpr uint64_t kFsTruncate = 1ull << 14;  // ABI 3
constexpr uint64_t kFsIoctlDev = 1ull << 15;  // ABI 5
constexpr uint64_t kNetBindTcp = 1ull << 0;   // ABI 4
constexpr uint64_t kNetConnectTcp = 1ull << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ull << 1;

// struct landlock_ruleset_attr as of ABI 6; the size passed to the kernel tells it which fields we know.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status set_limit(int resource, rlim_t value) {
  const rlimit limit{value, value};
  if (setrlimit(resource, &limit) != 0) return Status::error(Code::kIoError, "setrlimit failed", resource);
  return Status::ok();
}

Status apply_rlimits(const SandboxPolicy& policy) {
  PRIVOTA_TRY(set_limit(RLIMIT_AS, policy.address_space_bytes));
  PRIVOTA_TRY(set_limit(RLIMIT_CPU, policy.cpu_seconds));
  // 0 processes for this user beyond the ones that exist: fork fails. Root ignores RLIMIT_NPROC, which is why
  // seccomp refuses clone/fork as well.
  PRIVOTA_TRY(set_limit(RLIMIT_NPROC, 0));
  PRIVOTA_TRY(set_limit(RLIMIT_NOFILE, policy.max_open_files));
  PRIVOTA_TRY(set_limit(RLIMIT_FSIZE, 0));
  PRIVOTA_TRY(set_limit(RLIMIT_CORE, 0));
  PRIVOTA_TRY(set_limit(RLIMIT_MEMLOCK, 0));
  return Status::ok();
}

// --- the private root

// Where the new root is built. Any directory every Linux has: the tmpfs mounted on it exists only in the
// child's own mount namespace, and after chroot nothing outside it can be named.
constexpr const char* kRootBuildDir = "/tmp";

Status write_proc_file(const char* path, const std::string& text) {
  Fd fd(open(path, O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0 || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Status::error(Code::kIoError, "writing the user namespace's id map failed", errno);
  return Status::ok();
}

// A mount namespace of our own: directly with CAP_SYS_ADMIN (a root sim), else inside a new user namespace
// that maps our ids to themselves (so nothing changes outside; the capabilities it grants end at exec).
Status enter_mount_namespace() {
  if (unshare(CLONE_NEWNS) == 0) return Status::ok();
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return Status::error(Code::kUnsupported, "no mount namespace for the private root (unshare)", errno);
  PRIVOTA_TRY(write_proc_file("/proc/self/setgroups", "deny"));
  PRIVOTA_TRY(write_proc_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1"));
  return write_proc_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
}

Status make_parents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (mkdir(path.substr(0, slash).c_str(), 0755) != 0 && errno != EEXIST)
      return Status::error(Code::kIoError, "mkdir in the private root failed", errno);
  }
  return Status::ok();
}

// One library path into the new root: a symlink as the same symlink, a directory or file as a bind mount.
// A path that already exists there (beneath a directory bound before, or through a symlink) is left alone:
// nothing is ever created inside a bind mount, which is the host's own directory.
Status add_to_root(const char* host_path, const std::string& root) {
  struct stat host {};
  if (lstat(host_path, &host) != 0) return Status::ok();  // not on this distribution
  const std::string inside = root + host_path;
  struct stat there {};
  if (lstat(inside.c_str(), &there) == 0 || stat(inside.c_str(), &there) == 0) return Status::ok();
  PRIVOTA_TRY(make_parents(inside));
  if (S_ISLNK(host.st_mode)) {
    char target[4096];
    const ssize_t n = readlink(host_path, target, sizeof target - 1);
    if (n < 0) return Status::error(Code::kIoError, "readlink of a library path failed", errno);
    target[n] = '\0';
    if (symlink(target, inside.c_str()) != 0)
      return Status::error(Code::kIoError, "symlink in the private root failed", errno);
    return Status::ok();
  }
  if (S_ISDIR(host.st_mode)) {
    if (mkdir(inside.c_str(), 0755) != 0)
      return Status::error(Code::kIoError, "mkdir in the private root failed", errno);
  } else {
    Fd file(open(inside.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (file.get() < 0) return Status::error(Code::kIoError, "mount point in the private root failed", errno);
  }
  if (mount(host_path, inside.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return Status::error(Code::kIoError, "bind mount of a library path failed", errno);
  return Status::ok();
}

Status enter_private_root(const SandboxPolicy& policy) {
  PRIVOTA_TRY(enter_mount_namespace());
  // Nothing of what follows may reach the host's mount table.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return Status::error(Code::kIoError, "making the mounts private failed", errno);
  const std::string root = kRootBuildDir;
  if (mount("privota-root", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") !=
      0)
    return Status::error(Code::kIoError, "mounting the private root's tmpfs failed", errno);
  for (const char* const* list : {policy.library_paths, policy.interpreter_paths}) {
    for (const char* const* path = list; path != nullptr && *path != nullptr; ++path)
      PRIVOTA_TRY(add_to_root(*path, root));
  }
  if (chdir(root.c_str()) != 0 || chroot(".") != 0 || chdir("/") != 0)
    return Status::error(Code::kIoError, "entering the private root failed", errno);
  return Status::ok();
}

uint64_t handled_fs_access(int abi) {
  uint64_t access = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) access |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) access |= kFsTruncate;
  if (abi >= 5) access |= kFsIoctlDev;
  return access;
}

Status add_path_rules(int ruleset, const char* const* paths, uint64_t access) {
  for (const char* const* path = paths; path != nullptr && *path != nullptr; ++path) {
    Fd parent(open(*path, O_PATH | O_CLOEXEC));
    if (parent.get() < 0) continue;  // not on this distribution
    landlock_path_beneath_attr rule{};
    rule.allowed_access = access;
    rule.parent_fd = parent.get();
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
      return Status::error(Code::kIoError, "landlock_add_rule failed", errno);
  }
  return Status::ok();
}

Status apply_landlock(const SandboxPolicy& policy) {
  const int abi = landlock_abi_version();
  if (abi < 1 && policy.allow_degraded) return Status::ok();  // check_kernel_support() said so
  if (abi < 1) return Status::error(Code::kUnsupported, "landlock is not available in this kernel");
  RulesetAttr attr{};
  attr.handled_access_fs = handled_fs_access(abi);
  size_t attr_size = sizeof(uint64_t);
  if (abi >= 4) {
    // Handled with no rule: no TCP bind or connect at all.
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    attr_size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    // No signals to, and no abstract unix sockets of, processes outside this sandbox (e.g. the protected
    // app).
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    attr_size = sizeof(RulesetAttr);
  }
  Fd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0)));
  if (ruleset.get() < 0) return Status::error(Code::kIoError, "landlock_create_ruleset failed", errno);

  // Library files only: no READ_DIR (the loader opens exact paths from ld.so.cache), no write of any kind.
  // Mapping a library PROT_EXEC needs only READ_FILE (landlock does not mediate mmap); EXECUTE is what
  // execve checks, and only the ELF interpreter, which the kernel opens for the memfd's exec, needs it.
  PRIVOTA_TRY(add_path_rules(ruleset.get(), policy.library_paths, LANDLOCK_ACCESS_FS_READ_FILE));
  PRIVOTA_TRY(add_path_rules(ruleset.get(), policy.interpreter_paths,
                             LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE));
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
    return Status::error(Code::kIoError, "landlock_restrict_self failed", errno);
  return Status::ok();
}

// libseccomp owns its context; this releases it on every path.
class Filter {
 public:
  explicit Filter(uint32_t default_action) : ctx_(seccomp_init(default_action)) {}
  ~Filter() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
  bool valid() const { return ctx_ != nullptr; }

  // Errors accumulate; load() reports the first one.
  void add(uint32_t action, int syscall_nr) { note(seccomp_rule_add(ctx_, action, syscall_nr, 0)); }
  void add(uint32_t action, int syscall_nr, scmp_arg_cmp a) {
    note(seccomp_rule_add(ctx_, action, syscall_nr, 1, a));
  }
  void add(uint32_t action, int syscall_nr, scmp_arg_cmp a, scmp_arg_cmp b) {
    note(seccomp_rule_add(ctx_, action, syscall_nr, 2, a, b));
  }
  // The filter as BPF, built now so that installing it later allocates nothing: the launcher installs it
  // after RLIMIT_AS, which an ASan-instrumented caller (terabytes of shadow mappings) is already far above.
  Result<std::vector<sock_filter>> compile() {
    if (error_ != 0) return Status::error(Code::kIoError, "seccomp_rule_add failed", -error_);
    Fd out(memfd_create("privota-seccomp", MFD_CLOEXEC));
    if (out.get() < 0) return Status::error(Code::kIoError, "memfd_create for the filter failed", errno);
    if (seccomp_export_bpf(ctx_, out.get()) != 0)
      return Status::error(Code::kIoError, "seccomp_export_bpf failed");
    const off_t size = lseek(out.get(), 0, SEEK_CUR);
    if (size <= 0 || size % sizeof(sock_filter) != 0)
      return Status::error(Code::kIoError, "seccomp filter has an odd size", static_cast<uint32_t>(size));
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (pread(out.get(), program.data(), static_cast<size_t>(size), 0) != size)
      return Status::error(Code::kIoError, "reading the seccomp filter back failed", errno);
    return program;
  }
  Status load() {
    if (error_ != 0) return Status::error(Code::kIoError, "seccomp_rule_add failed", -error_);
    if (seccomp_load(ctx_) != 0) return Status::error(Code::kIoError, "seccomp_load failed");
    return Status::ok();
  }

 private:
  void note(int rc) {
    if (rc != 0 && error_ == 0) error_ = rc;
  }
  scmp_filter_ctx ctx_;
  int error_ = 0;
};

// What a dynamically linked C++ program needs to be loaded, to start, to allocate, to talk over the fds it
// was given, to tell time, to wait, to crash (signals to itself) and to exit. Everything else kills it.
constexpr int kAllowed[] = {
    // memory
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(madvise),
    // existing fds (the channel, and library files while the loader maps them)
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(close),
    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(poll), SCMP_SYS(ppoll),
    // process start-up (glibc, libstdc++)
    SCMP_SYS(arch_prctl), SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(getrandom),
    // signals, time, waiting
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep), SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(pause),
    SCMP_SYS(rt_sigsuspend),
    // waiting for children it cannot have (fork is refused): harmless, and libc calls it after a failed fork
    SCMP_SYS(wait4), SCMP_SYS(waitid),
    // identity (read only)
    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
    SCMP_SYS(getgid), SCMP_SYS(getegid),
    // only ever tightens: lets the program stack seal_after_startup()
    SCMP_SYS(seccomp), SCMP_SYS(exit), SCMP_SYS(exit_group)};

// Refused with EPERM rather than a kill, so an intruder (and our tests) can see each attempt fail and the
// protected app's log names it. Anything not listed here or above kills the process.
constexpr int kRefused[] = {
    SCMP_SYS(open), SCMP_SYS(creat), SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect),
    SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(execve), SCMP_SYS(ptrace),
    SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(clone), SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(unshare),
    SCMP_SYS(setns), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev), SCMP_SYS(personality), SCMP_SYS(memfd_create), SCMP_SYS(setrlimit),
    // whether a host path exists (key files included); the loader's probe of
    // /etc/ld.so.preload takes any failure as "none"
    SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(setuid), SCMP_SYS(setgid),
    SCMP_SYS(capset)};

// O_TMPFILE includes O_DIRECTORY; only its own bit says "create". O_PATH is refused too: landlock does not
// check an O_PATH open, which would let the app probe any host path (and fstat it: size, mode, owner).
constexpr uint64_t kTmpFile = O_TMPFILE & ~O_DIRECTORY;
constexpr uint64_t kOpenRefusedFlagList[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, kTmpFile, O_PATH};
constexpr uint64_t kOpenRefusedFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | kTmpFile | O_PATH;

// fcntl commands a program needs on the fds it holds (libc, the loader, the SDK): flags, close-on-exec,
// copies (bounded by RLIMIT_NOFILE). Every other command is refused: F_SETOWN/F_SETOWN_EX/F_SETSIG with
// O_ASYNC would have the kernel signal another process (the protected app) for this one; leases, locks,
// pipe sizes and seals are of no use to a user app.
constexpr int kFcntlAllowed[] = {F_GETFD, F_SETFD, F_GETFL, F_DUPFD, F_DUPFD_CLOEXEC};

void add_fcntl_rules(Filter& filter) {
  for (int command : kFcntlAllowed)
    filter.add(SCMP_ACT_ALLOW, SCMP_SYS(fcntl), SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(command)));
  // F_SETFL may change O_NONBLOCK and the like, never O_ASYNC (signal-driven I/O).
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(fcntl), SCMP_A1(SCMP_CMP_EQ, F_SETFL),
             SCMP_A2(SCMP_CMP_MASKED_EQ, O_ASYNC, 0));
  filter.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), SCMP_A1(SCMP_CMP_EQ, F_SETFL),
             SCMP_A2(SCMP_CMP_MASKED_EQ, O_ASYNC, O_ASYNC));
  for (int command : {F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY, F_SETPIPE_SZ, F_ADD_SEALS,
                      F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW})
    filter.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl),
               SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(command)));
}

// Installs the filter; with an exec to gate, returns the listener fd of its user notifications, else -1.
Result<int> install(std::vector<sock_filter>& program, bool gate_exec) {
  const sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  const long rc =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, gate_exec ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
  if (rc < 0) return Status::error(Code::kIoError, "installing the seccomp filter failed", errno);
  return gate_exec ? static_cast<int>(rc) : -1;
}

Result<std::vector<sock_filter>> build_seccomp(const SandboxPolicy& policy) {
  Filter filter(SCMP_ACT_KILL_PROCESS);
  if (!filter.valid()) return Status::error(Code::kIoError, "seccomp_init failed");
  for (int nr : kAllowed)
    filter.add(SCMP_ACT_ALLOW, nr);
  for (int nr : kRefused)
    filter.add(SCMP_ACT_ERRNO(EPERM), nr);
  add_fcntl_rules(filter);
  // clone3 must say ENOSYS-or-EPERM, not kill: glibc tries it first. EPERM makes fork/threads fail cleanly.
  filter.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone3));

  // The loader runs after this filter is in place, so opening is allowed read-only; landlock confines the
  // paths to the libraries. Any write-ish flag is refused.
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, kOpenRefusedFlags, 0));
  for (uint64_t flag : kOpenRefusedFlagList)
    filter.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, flag, flag));

  // Signals only to itself (abort() and raise() use tgkill on their own pid).
  const auto self = static_cast<scmp_datum_t>(getpid());
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, self));
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, self));
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(tkill), SCMP_A0(SCMP_CMP_EQ, self));
  // Any other target (the protected app, a process group, -1 = everyone) fails with EPERM, so the attempt
  // is seen and logged instead of ending the app.
  for (int nr : {SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(tkill)})
    filter.add(SCMP_ACT_ERRNO(EPERM), nr, SCMP_A0(SCMP_CMP_NE, self));

  // glibc reads RLIMIT_STACK at start-up: reading its own limits (pid 0) is fine; setting none is, and
  // reading another process's limits tells what runs on the host.
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
  filter.add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_NE, 0));
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(getrlimit));
  // The only privilege change allowed is giving one up.
  filter.add(SCMP_ACT_ALLOW, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));

  // The one exec: the launcher's memfd, by fd. The filter cannot see the path, and the kernel ignores the
  // fd for an absolute one, so the call goes to the launcher's exec gate (approve_one_exec), which lets
  // exactly one through and then closes the gate: every later execveat fails with ENOSYS.
  if (policy.exec_fd >= 0)
    filter.add(SCMP_ACT_NOTIFY, SCMP_SYS(execveat),
               SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(policy.exec_fd)),
               SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH));
  return filter.compile();
}

}  // namespace

int landlock_abi_version() {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

std::vector<std::string> sandbox_missing_protections(int landlock_abi) {
  // One row per landlock ABI step the sandbox uses (see apply_landlock).
  struct Step {
    int abi;
    const char* lost;
  };
  static constexpr Step kSteps[] = {
      {1, "landlock ABI 1: no file-access rules at all (Linux 5.13, landlock enabled in lsm=)"},
      {3, "landlock ABI 3: truncate not controlled (Linux 6.2)"},
      {4, "landlock ABI 4: no TCP bind/connect rules (Linux 6.7)"},
      {5, "landlock ABI 5: device ioctl not controlled (Linux 6.10)"},
      {6, "landlock ABI 6: no signal or abstract-socket scoping (Linux 6.12)"},
  };
  std::vector<std::string> missing;
  for (const Step& step : kSteps)
    if (landlock_abi < step.abi) missing.emplace_back(step.lost);
  return missing;
}

Status check_kernel_support(const SandboxPolicy& policy, int landlock_abi) {
  if (!policy.landlock || policy.allow_degraded || landlock_abi >= kWantedLandlockAbi) return Status::ok();
  return Status::error(Code::kUnsupported,
                       "the kernel lacks part of the user-app sandbox (landlock ABI below 6); set "
                       "user_app.sandbox.allow_degraded to run the user app anyway",
                       static_cast<uint32_t>(landlock_abi));
}

// A user app started by a root sim would otherwise get every capability back at exec (a root process's
// permitted set is refilled from the bounding set). Emptying the bounding set, then the sets themselves,
// leaves it none, before and after exec. Unprivileged callers have none to drop.
Status drop_capabilities() {
  if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) < 0) return Status::ok();  // no capability support
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EPERM)
      return Status::error(Code::kIoError, "PR_CAPBSET_DROP failed", static_cast<uint32_t>(cap));
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2] = {};
  if (syscall(SYS_capset, &header, none) != 0)
    return Status::error(Code::kIoError, "capset to no capabilities failed", errno);
  return Status::ok();
}

Result<int> apply_sandbox(const SandboxPolicy& policy) {
  if (policy.exec_fd >= 0 && static_cast<uint32_t>(policy.exec_fd) < policy.max_open_files)
    return Status::error(Code::kInvalidArgument, "exec_fd must be >= max_open_files", policy.exec_fd);
  // Landlock opens the library paths, so it goes before RLIMIT_NOFILE can get in the way; NO_NEW_PRIVS is
  // what lets an unprivileged process restrict itself with landlock and seccomp.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Status::error(Code::kIoError, "PR_SET_NO_NEW_PRIVS failed", errno);
  if (policy.private_root) {
    const Status root = enter_private_root(policy);
    if (!root.is_ok() && !(policy.allow_degraded && root.code() == Code::kUnsupported)) return root;
  }
  std::vector<sock_filter> program;
  if (policy.seccomp) {
    PRIVOTA_ASSIGN_OR_RETURN(program, build_seccomp(policy));
  }
  if (policy.landlock) PRIVOTA_TRY(apply_landlock(policy));
  PRIVOTA_TRY(apply_rlimits(policy));
  PRIVOTA_TRY(drop_capabilities());
  // Last: from here on only the allow-list runs.
  if (!policy.seccomp) return -1;
  return install(program, policy.exec_fd >= 0);
}

Status approve_one_exec(int listener, pid_t child, int exec_fd, int timeout_ms) {
  pollfd ready{listener, POLLIN, 0};
  int n;
  do {
    n = poll(&ready, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::error(Code::kIoError, "poll on the exec gate failed", errno);
  if (n == 0) return Status::error(Code::kTimeout, "the child did not exec in time");
  if ((ready.revents & POLLIN) == 0) return Status::error(Code::kBadState, "the child ended before its exec");
  seccomp_notif request{};
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0)
    return Status::error(Code::kIoError, "reading the exec request failed", errno);
  seccomp_notif_resp answer{};
  answer.id = request.id;
  const bool expected = request.pid == static_cast<uint32_t>(child) && request.data.nr == SYS_execveat &&
                        request.data.args[0] == static_cast<uint64_t>(exec_fd) &&
                        request.data.args[4] == AT_EMPTY_PATH;
  // CONTINUE is safe here and only here: the caller is the launcher's own code in a child with one
  // thread, before any instruction of the app ran, so the path it passes cannot change under us.
  if (expected)
    answer.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else
    answer.error = -EPERM;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &answer) != 0)
    return Status::error(Code::kIoError, "answering the exec request failed", errno);
  if (!expected) return Status::error(Code::kBadState, "the child asked for another exec than its own");
  return Status::ok();
}

Status seal_after_startup() {
  Filter filter(SCMP_ACT_ALLOW);
  if (!filter.valid()) return Status::error(Code::kIoError, "seccomp_init failed");
  for (int nr : {SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat), SCMP_SYS(execve),
                 SCMP_SYS(execveat), SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2)})
    filter.add(SCMP_ACT_ERRNO(EPERM), nr);
  return filter.load();
}

}  // namespace privota::host
