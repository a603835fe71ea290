// sandbox_probe: a dynamically linked program the tests launch from memory, in the sandbox, to try one thing.
//
//   sandbox_probe [--sealed] ACTION [ARG]
//
// Exit code 0: the action worked; 10: it was refused (errno in the message); 2: bad usage. A line describing
// the outcome goes to the channel (fd 3) when there is one. Killed by SIGSYS also means refused (seccomp).
// Built without sanitizers: ASan's runtime reserves terabytes of shadow memory and reads /proc, neither of
// which the sandbox allows.
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "privota/host/sandbox.h"

namespace {

constexpr int kChannel = 3;
constexpr int kWorked = 0;
constexpr int kRefused = 10;
constexpr int kUsage = 2;

void tell(const std::string& line) {
  [[maybe_unused]] ssize_t n = send(kChannel, line.data(), line.size(), MSG_NOSIGNAL);
}

// One outcome per action: a negative return from the attempted call means the sandbox refused it.
int outcome(long rc) {
  if (rc < 0) {
    const int error = errno;
    tell("refused errno=" + std::to_string(error));
    return kRefused;
  }
  tell("worked");
  return kWorked;
}

int try_connect(const char* where) {
  std::string text = where;
  const size_t colon = text.find(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(text.substr(colon + 1).c_str())));
  inet_pton(AF_INET, text.substr(0, colon).c_str(), &addr.sin_addr);
  // socket() itself is refused; connect() is tried on the channel too, which is a socket we do hold.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fd = kChannel;
  return outcome(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}

int try_alloc(const char* megabytes) {
  const size_t size = static_cast<size_t>(std::atol(megabytes)) << 20;
  auto* block = static_cast<volatile char*>(std::malloc(size));
  if (block == nullptr) return outcome(-1);
  for (size_t i = 0; i < size; i += 4096)
    block[i] = 1;  // touch every page
  std::free(const_cast<char*>(block));
  return outcome(0);
}

int list_fds() {
  std::string open_fds;
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, its bug 105329) on the inlined
  // `const char* + std::string` temporary that a one-line concatenation would build.
  for (int fd = 0; fd <= 200; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) continue;
    if (!open_fds.empty()) open_fds += ',';
    open_fds += std::to_string(fd);
  }
  tell(open_fds);
  return kWorked;
}

int echo_channel() {
  char buffer[256];
  const ssize_t n = recv(kChannel, buffer, sizeof buffer, 0);
  if (n < 0) return outcome(-1);
  return outcome(send(kChannel, buffer, static_cast<size_t>(n), 0));
}

// Tells the capability lines of /proc/self/status ("CapEff:\t0000000000000000 CapBnd:\t..."); run without
// landlock and seccomp, which would refuse the read.
int capabilities() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return outcome(-1);
  std::string said;
  char line[256];
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::strncmp(line, "CapEff:", 7) == 0 || std::strncmp(line, "CapPrm:", 7) == 0 ||
        std::strncmp(line, "CapBnd:", 7) == 0) {
      said += std::string(line, std::strcspn(line, "\n")) + " ";
    }
  }
  std::fclose(status);
  tell(said);
  return kWorked;
}

int run(const std::string& action, const char* arg) {
  if (action == "exit") return std::atoi(arg);
  if (action == "open") return outcome(open(arg, O_RDONLY | O_CLOEXEC));
  if (action == "write") return outcome(open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (action == "socket") return outcome(socket(AF_INET, SOCK_STREAM, 0));
  if (action == "unix-socket") return outcome(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  if (action == "connect") return try_connect(arg);
  if (action == "exec") {
    char* const argv[] = {const_cast<char*>(arg), nullptr};
    return outcome(execve(arg, argv, environ));
  }
  // Information about the host: whether a path exists, its mode and size, another process's limits.
  if (action == "access") return outcome(access(arg, F_OK));
  if (action == "faccessat2") return outcome(syscall(SYS_faccessat2, AT_FDCWD, arg, F_OK, 0));
  if (action == "open-path") return outcome(open(arg, O_PATH | O_CLOEXEC));
  if (action == "stat") {
    struct stat info {};
    return outcome(stat(arg, &info));
  }
  // AT_EMPTY_PATH, as glibc's fstat passes it: with a non-empty path the kernel looks the path up anyway.
  if (action == "stat-empty-path-flag") {
    struct stat info {};
    return outcome(fstatat(AT_FDCWD, arg, &info, AT_EMPTY_PATH));
  }
  // Whether a host path exists, from the error of an open that landlock refuses: EACCES means it does.
  if (action == "open-errno") {
    const int fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return kWorked;
    tell(errno == ENOENT ? "ENOENT" : errno == EACCES ? "EACCES" : "other");
    return kRefused;
  }
  if (action == "prlimit-parent") {
    rlimit limit{};
    return outcome(prlimit(getppid(), RLIMIT_NOFILE, nullptr, &limit));
  }
  if (action == "prlimit-self") {
    rlimit limit{};
    return outcome(prlimit(0, RLIMIT_NOFILE, nullptr, &limit));
  }
  // Its own stdout opened again through /proc: for a pipe that is a read end, and the app could take its
  // own lines back before the device log sees them.
  if (action == "reopen-stdout") return outcome(open("/proc/self/fd/1", O_RDONLY | O_CLOEXEC));
  if (action == "execat") {
    // The one execveat the filter lets through names the launcher's fd (100) with AT_EMPTY_PATH; an
    // absolute path makes the kernel ignore that fd and run the file the path names.
    char* const argv[] = {const_cast<char*>(arg), nullptr};
    return outcome(syscall(SYS_execveat, 100, arg, argv, environ, AT_EMPTY_PATH));
  }
  if (action == "reexec") {
    // Try to get an fd back at the launcher's exec number (100) and exec it again. RLIMIT_NOFILE forbids
    // the dup; dup2/dup3 are not even on the allow-list.
    if (fcntl(kChannel, F_DUPFD, 100) < 0) return outcome(-1);
    char* const argv[] = {const_cast<char*>("again"), nullptr};
    return outcome(syscall(SYS_execveat, 100, "", argv, environ, AT_EMPTY_PATH));
  }
  if (action == "fork") {
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    return outcome(pid);
  }
  if (action == "thread-clone3") return outcome(syscall(SYS_clone3, nullptr, 0));
  if (action == "ptrace") return outcome(ptrace(PTRACE_ATTACH, getppid(), nullptr, nullptr));
  if (action == "kill") return outcome(kill(std::atoi(arg), 0));  // signal 0: harmless if it got through
  if (action == "kill-parent") return outcome(kill(getppid(), 0));
  if (action == "kill-self") return outcome(kill(getpid(), 0));
  if (action == "mount") return outcome(mount("none", "/tmp", "tmpfs", 0, nullptr));
  if (action == "unshare") return outcome(unshare(CLONE_NEWUSER | CLONE_NEWNS));
  if (action == "memfd") return outcome(syscall(SYS_memfd_create, "x", 0));
  if (action == "raise-limit") {
    const rlimit more{1024, 1024};
    return outcome(setrlimit(RLIMIT_NOFILE, &more));
  }
  // fcntl on the channel: F_SETOWN(parent) + F_SETSIG + O_ASYNC would make the kernel signal the protected
  // app whenever the channel has data; each step must be refused on its own.
  if (action == "fcntl-setown") return outcome(fcntl(kChannel, F_SETOWN, getppid()));
  if (action == "fcntl-setown-ex") {
    const f_owner_ex owner{F_OWNER_PID, getppid()};
    return outcome(fcntl(kChannel, F_SETOWN_EX, &owner));
  }
  if (action == "fcntl-setsig") return outcome(fcntl(kChannel, F_SETSIG, SIGKILL));
  if (action == "fcntl-async") return outcome(fcntl(kChannel, F_SETFL, O_ASYNC | O_NONBLOCK));
  if (action == "fcntl-lease") return outcome(fcntl(kChannel, F_SETLEASE, F_RDLCK));
  if (action == "fcntl-everyday") {
    // What the SDK, libc and the loader do with fcntl: flags of an fd, close-on-exec, a copy of an fd.
    const int flags = fcntl(kChannel, F_GETFL);
    if (flags < 0 || fcntl(kChannel, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(kChannel, F_GETFD) < 0 ||
        fcntl(kChannel, F_SETFD, FD_CLOEXEC) < 0)
      return outcome(-1);
    const int copy = fcntl(kChannel, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return outcome(-1);
    close(copy);
    return outcome(fcntl(kChannel, F_SETFL, flags));
  }
  if (action == "read-own-channel") return echo_channel();
  if (action == "write-channel") return outcome(send(kChannel, arg, std::strlen(arg), 0));
  if (action == "alloc") return try_alloc(arg);
  if (action == "list-fds") return list_fds();
  if (action == "caps") return capabilities();
  if (action == "segv") {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
    return kWorked;
  }
  if (action == "abort") std::abort();
  if (action == "sleep") {
    for (;;)
      sleep(1000);
  }
  if (action == "spin") {
    volatile unsigned long counter = 0;
    for (;;)
      counter = counter + 1;
  }
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc > first && std::strcmp(argv[first], "--sealed") == 0) {
    // What the user-app SDK does at the start of main(): the loader is done, no more opening.
    if (!privota::host::seal_after_startup().is_ok()) return kUsage;
    ++first;
  }
  if (argc <= first) return kUsage;
  return run(argv[first], argc > first + 1 ? argv[first + 1] : "");
}
