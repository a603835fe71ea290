// The user-app sandbox: rlimits, landlock and a seccomp allow-list, entered by a launched child process.
//
// Two layers, because the dynamic loader of a dynamically linked user app must open the system libraries
// after exec, and a user app is untrusted (it may skip anything it is asked to run):
//
//   1. apply_sandbox(): the launcher calls it in the child between fork and fexecve. This is the security
//      boundary; it holds even if the launched program does nothing to help.
//      - rlimits: address space, CPU, no new processes, few fds, no file growth, no core dumps.
//      - PR_SET_NO_NEW_PRIVS (required for landlock/seccomp; nothing exec'd can gain privileges).
//      - a private root (private_root): a mount namespace whose root is an empty tmpfs holding only the
//        library paths (bind mounts) and their symlinks. Landlock mediates opening, not looking: stat of
//        a path (newfstatat, which the loader's fstat needs and seccomp cannot tell from a path probe by
//        its pointer argument) and the ENOENT/EACCES of an open would tell an app whether any host file
//        exists, its size, mode and owner. In the private root no host path but the libraries exists.
//      - landlock: read beneath the library directories, read of /etc/ld.so.cache, nothing else;
//        no TCP bind/connect (ABI 4+); no signals or abstract unix sockets outside the sandbox (ABI 6+).
//      - seccomp allow-list (default: kill the process). openat is allowed read-only (landlock decides the
//        paths) because the loader runs after this filter is installed. execveat on `exec_fd` with
//        AT_EMPTY_PATH goes to a user-notification listener (the exec gate): the launcher's parent
//        approves that one exec with approve_one_exec() and closes the listener, after which every execveat
//        fails with ENOSYS (the filter cannot read the path, and the kernel ignores the fd of an absolute
//        path, so a rule on the fd alone would let `execveat(fd, "/lib64/ld-linux...", ..)` through). Every
//        other exec is refused with EPERM.
//      - landlock EXECUTE only on the ELF interpreter (the kernel opens it for the memfd's exec); library
//        files are READ_FILE only, which is all mmap(PROT_EXEC) needs.
//   2. seal_after_startup(): for a program to call at the start of main(), once the loader is done: a
//      second, stacked filter that also refuses open/openat/execveat. Defence in depth (less kernel
//      surface); layer 1 alone already keeps a program that skips it inside the sandbox. (The user-app SDK
//      does not call it yet: it would link libseccomp into every user app; to be settled with the
//      protected app.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "privota/result.h"
#include "privota/status.h"

namespace privota::host {

struct SandboxPolicy {
  uint64_t address_space_bytes = 256ull << 20;
  uint32_t cpu_seconds = 60;
  // RLIMIT_NOFILE (soft = hard). Must be > every fd the child keeps except exec_fd.
  uint32_t max_open_files = 16;
  // The fd the child will fexecve (must be >= max_open_files); -1 when the child does not exec.
  int exec_fd = -1;
  bool landlock = true;
  bool seccomp = true;
  // A mount namespace with only the library paths (see above). Needs CAP_SYS_ADMIN or, unprivileged, user
  // namespaces; without either the launch fails unless allow_degraded.
  bool private_root = true;
  // Run even when the kernel lacks part of the sandbox (check_kernel_support); the device owner's explicit
  // choice (device.json user_app.sandbox.allow_degraded), never a silent fallback.
  bool allow_degraded = false;
  // Landlock: files beneath these paths may be read and executed; missing paths are skipped. The minimal set
  // found by experiment on Debian 12 (merged /usr): /usr/lib and /etc/ld.so.cache; the others cover
  // distributions without merged /usr. nullptr ends the list.
  const char* const* library_paths = kDefaultLibraryPaths;

  static constexpr const char* kDefaultLibraryPaths[] = {"/usr/lib", "/usr/lib64",       "/lib",
                                                         "/lib64",   "/etc/ld.so.cache", nullptr};
  // Landlock: these files (the dynamic loaders named in PT_INTERP) may also be executed; missing ones are
  // skipped.
  const char* const* interpreter_paths = kDefaultInterpreterPaths;
  static constexpr const char* kDefaultInterpreterPaths[] = {"/lib64/ld-linux-x86-64.so.2",
                                                             "/lib/ld-linux-aarch64.so.1", nullptr};
};

// The highest landlock ABI the kernel supports; 0 when landlock is unavailable or disabled.
int landlock_abi_version();

// The landlock ABI the sandbox is built for: 6 (Linux 6.12) scopes signals and abstract unix sockets.
constexpr int kWantedLandlockAbi = 6;

// What a kernel with this landlock ABI lacks of the sandbox above, one phrase each ("landlock ABI 6: no
// signal or abstract-socket scoping (Linux 6.12)"); empty when nothing is missing.
std::vector<std::string> sandbox_missing_protections(int landlock_abi);

// Ok when the kernel (its landlock ABI) gives the whole sandbox, or when the policy allows it to run
// degraded; else kUnsupported (detail: the ABI found). The launcher calls it before every sandboxed launch.
Status check_kernel_support(const SandboxPolicy& policy, int landlock_abi);

// Enters the sandbox for the calling process (see layer 1 above). Meant for a freshly forked child: it
// allocates (libseccomp builds the filter), which glibc makes safe after fork. Irreversible. Returns the
// exec gate's listener fd when policy.exec_fd >= 0 (the child hands it to its parent and closes it), else
// -1.
Result<int> apply_sandbox(const SandboxPolicy& policy);

// In the launcher's parent: waits up to `timeout_ms` for the child's one execveat on `exec_fd` at the gate
// `listener` and lets it run; anything else is refused. The caller closes the listener afterwards, which
// closes the gate for good.
Status approve_one_exec(int listener, pid_t child, int exec_fd, int timeout_ms);

// Layer 2 (see above): refuses open/openat/execveat from now on. Irreversible.
Status seal_after_startup();

}  // namespace privota::host
