// intruder: a hostile user app that tries to escape its sandbox, one attempt per run so a harness can tell
// which attempt the sandbox killed (seccomp ends the process with SIGSYS instead of failing the call).
//
//   intruder ATTEMPT [FLASH_FILE]     ATTEMPT: one of kAttempts below, or "all" (every one, in order)
//
// Each attempt reports one line through privota_log (and stdout): "BLOCKED <what> (<why>)" when the kernel
// refused it, "ESCAPED <what> (<how>)" when it worked. Exit status: 0 every attempt run was blocked, 1 one
// escaped, 2 usage, 3 the channel to the protected app failed. A successful execve replaces the process with
// /bin/true (exit 0, no BLOCKED line after its "TRY" line).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privota/byte_order.h"
#include "privota/syscall.h"
#include "privota/user.h"

namespace {

namespace sc = privota::syscall;

bool g_escaped = false;
const char* g_flash_file = nullptr;

const char* errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "unknown errno";
}

// One report line; a channel that no longer carries it ends the run (exit 3).
__attribute__((format(printf, 2, 3))) void report(bool escaped, const char* format, ...) {
  char line[PRIVOTA_MAX_STRING + 1];
  const int prefix = snprintf(line, sizeof line, "%s ", escaped ? "ESCAPED" : "BLOCKED");
  va_list args;
  va_start(args, format);
  vsnprintf(line + prefix, sizeof line - static_cast<size_t>(prefix), format, args);
  va_end(args);
  g_escaped = g_escaped || escaped;
  printf("%s\n", line);
  fflush(stdout);
  const int err = privota_log(escaped ? PRIVOTA_LOG_WARN : PRIVOTA_LOG_INFO, line);
  if (err != PRIVOTA_OK) {
    fprintf(stderr, "intruder: log: %s\n", privota_error_name(err));
    exit(3);
  }
}

void try_open(const char* what, const char* path, int flags) {
  const int fd = open(path, flags);
  if (fd < 0) {
    report(false, "%s %s (%s)", what, path, errno_name(errno));
    return;
  }
  close(fd);
  report(true, "%s %s (fd %d)", what, path, fd);
}

void open_passwd() {
  try_open("open", "/etc/passwd", O_RDONLY);
}

void open_flash() {
  if (g_flash_file == nullptr) {
    fprintf(stderr, "intruder: open-flash needs FLASH_FILE\n");
    exit(2);
  }
  try_open("open-rw", g_flash_file, O_RDWR);
  try_open("open-ro", g_flash_file, O_RDONLY);
}

// Looking is not opening: stat tells whether a host file exists, its size, mode and owner, and landlock
// does not mediate it. The private root has no such path at all.
void stat_flash() {
  if (g_flash_file == nullptr) {
    fprintf(stderr, "intruder: stat-flash needs FLASH_FILE\n");
    exit(2);
  }
  struct stat info {};
  if (stat(g_flash_file, &info) != 0) return report(false, "stat %s (%s)", g_flash_file, errno_name(errno));
  report(true, "stat %s (%lld bytes, mode %o)", g_flash_file, static_cast<long long>(info.st_size),
         static_cast<unsigned>(info.st_mode));
}

void open_socket() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return report(false, "socket AF_INET (%s)", errno_name(errno));
  close(fd);
  report(true, "socket AF_INET (fd %d)", fd);
}

void connect_out() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return report(false, "connect 127.0.0.1:9 (no socket: %s)", errno_name(errno));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  const int err = errno;
  close(fd);
  // Only a refusal by the sandbox counts as blocked: ECONNREFUSED means the packet reached the network stack.
  if (rc != 0) {
    const bool blocked = err == EACCES || err == EPERM;
    return report(!blocked, "connect 127.0.0.1:9 (%s)", errno_name(err));
  }
  report(true, "connect 127.0.0.1:9 (connected)");
}

void exec_true() {
  printf("TRY execve /bin/true\n");
  fflush(stdout);
  char arg0[] = "true";
  char* const argv[] = {arg0, nullptr};
  char* const envp[] = {nullptr};
  execve("/bin/true", argv, envp);
  report(false, "execve /bin/true (%s)", errno_name(errno));
}

void ptrace_parent() {
  const pid_t parent = getppid();
  if (ptrace(PTRACE_ATTACH, parent, nullptr, nullptr) != 0)
    return report(false, "ptrace attach parent %d (%s)", parent, errno_name(errno));
  ptrace(PTRACE_DETACH, parent, nullptr, nullptr);
  report(true, "ptrace attach parent %d", parent);
}

void kill_parent() {
  const pid_t parent = getppid();
  if (kill(parent, SIGKILL) != 0) return report(false, "kill parent %d (%s)", parent, errno_name(errno));
  report(true, "kill parent %d", parent);
}

void fork_bomb() {
  constexpr int kForks = 64;
  int made = 0;
  int first_error = 0;
  for (int i = 0; i < kForks; ++i) {
    const pid_t child = fork();
    if (child == 0) _exit(0);
    if (child < 0) {
      if (first_error == 0) first_error = errno;
      continue;
    }
    ++made;
  }
  while (wait(nullptr) > 0) {
  }
  if (made == 0) return report(false, "fork x%d (%s)", kForks, errno_name(first_error));
  report(true, "fork x%d (%d processes created)", kForks, made);
}

void allocate() {
  constexpr size_t kStep = size_t{64} << 20;
  constexpr size_t kSteps = 64;  // 4 GiB
  void* blocks[kSteps] = {};
  size_t got = 0;
  const long page = sysconf(_SC_PAGESIZE);
  for (; got < kSteps; ++got) {
    auto* block = static_cast<volatile char*>(malloc(kStep));
    if (block == nullptr) break;
    for (size_t offset = 0; offset < kStep; offset += static_cast<size_t>(page))
      block[offset] = 1;
    blocks[got] = const_cast<char*>(block);
  }
  for (size_t i = 0; i < got; ++i)
    free(blocks[i]);
  if (got < kSteps) return report(false, "allocate 4096 MiB (stopped at %zu MiB)", got * (kStep >> 20));
  report(true, "allocate 4096 MiB (all of it allocated and touched)");
}

// --- garbage frames: the protected app must answer every malformed frame with an error and keep serving.

uint64_t g_random = 0x9E3779B97F4A7C15ull;  // fixed seed: a failing run can be replayed

uint8_t random_byte() {
  g_random ^= g_random << 13;
  g_random ^= g_random >> 7;
  g_random ^= g_random << 17;
  return static_cast<uint8_t>(g_random >> 24);
}

bool send_raw(const uint8_t* bytes, size_t size) {
  return send(PRIVOTA_CHANNEL_FD, bytes, size, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
}

// A raw app_info request, then every message until its answer: the protected app may (and should) answer the
// garbage before it with error frames, which the SDK would rightly take as out of step.
bool still_serving(uint32_t id, unsigned* error_replies) {
  sc::Frame request;
  request.call = sc::Call::kAppInfo;
  request.id = id;
  request.values[0] = sc::kRunningSlot;
  uint8_t bytes[sc::kFrameSize + 1];
  if (!sc::encode(request, {bytes, sc::kFrameSize}).is_ok() || !send_raw(bytes, sc::kFrameSize)) return false;
  for (int skipped = 0; skipped < 16; ++skipped) {
    const ssize_t n = recv(PRIVOTA_CHANNEL_FD, bytes, sizeof bytes, MSG_TRUNC);
    if (n <= 0) return false;
    const privota::Result<sc::Frame> answer =
        sc::decode({bytes, static_cast<size_t>(n)}, /*expect_response=*/true);
    if (answer.is_ok() && answer->id == id && answer->call == sc::Call::kAppInfo)
      return answer->status == privota::Code::kOk;
    ++*error_replies;
  }
  return false;
}

// Frames with the right magic and size, each with one field wrong.
size_t bad_frames(uint8_t (*out)[sc::kFrameSize], size_t max) {
  sc::Frame base;
  base.call = sc::Call::kLog;
  base.id = 0x7FFFFFFF;
  (void)base.set_string("garbage");
  size_t n = 0;
  auto next = [&]() -> uint8_t* {
    uint8_t* b = out[n++];
    (void)sc::encode(base, {b, sc::kFrameSize});
    return b;
  };
  if (max < 14) return 0;
  next()[2] = 2;                         // ABI version
  next()[3] = 0;                         // call 0
  next()[3] = 200;                       // unknown call
  next()[4] = sc::kFlagResponse;         // a response sent to the protected app
  next()[4] = 0x80;                      // reserved flag
  next()[5] = 3;                         // status in a request
  privota::store_le16(next() + 6, 481);  // payload length past the frame
  privota::store_le16(next() + 6, 7);    // string without its NUL
  next()[sc::kHeaderSize + 2] = 0;       // NUL inside the string
  privota::store_le32(next() + 12, 5);   // log level above 4
  privota::store_le32(next() + 28, 1);   // reserved word
  next()[sc::kFrameSize - 1] = 0xAA;     // bytes after the payload
  uint8_t* info = next();                // app_info of slot 7
  info[3] = static_cast<uint8_t>(sc::Call::kAppInfo);
  privota::store_le16(info + 6, 0);
  memset(info + sc::kHeaderSize, 0, sc::kPayloadMax);
  privota::store_le32(info + 12, 7);
  uint8_t* start = next();  // ota_start with an empty URL
  start[3] = static_cast<uint8_t>(sc::Call::kOtaStart);
  privota::store_le16(start + 6, 1);
  memset(start + sc::kHeaderSize, 0, sc::kPayloadMax);
  return n;
}

void garbage_frames() {
  constexpr size_t kMaxSize = 1024;
  static uint8_t buffer[kMaxSize];
  static uint8_t frames[16][sc::kFrameSize];
  uint32_t check_id = 0x80000000u;
  unsigned sent = 0;
  unsigned error_replies = 0;
  auto fail = [&](const char* after) {
    report(true, "garbage frames (protected app stopped serving after %s, %u sent)", after, sent);
  };
  for (size_t size = 0; size <= kMaxSize; ++size) {
    for (size_t i = 0; i < size; ++i)
      buffer[i] = random_byte();
    bool ok = send_raw(buffer, size);
    if (ok && size >= 4) {  // the same bytes behind a valid magic, version and call
      privota::store_le16(buffer, sc::kMagic);
      buffer[2] = sc::kAbiVersion;
      buffer[3] = static_cast<uint8_t>(1 + random_byte() % sc::kLastCall);
      buffer[4] = 0;
      ok = send_raw(buffer, size);
      sent += 1;
    }
    sent += 1;
    if (!ok || !still_serving(check_id++, &error_replies)) {
      char after[48];
      snprintf(after, sizeof after, "a %zu-byte message", size);
      return fail(after);
    }
  }
  const size_t count = bad_frames(frames, sizeof frames / sizeof frames[0]);
  for (size_t i = 0; i < count; ++i) {
    ++sent;
    if (!send_raw(frames[i], sc::kFrameSize) || !still_serving(check_id++, &error_replies)) {
      char after[48];
      snprintf(after, sizeof after, "bad-field frame %zu", i);
      return fail(after);
    }
  }
  privota_app_info_t self;
  if (const int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self); err != PRIVOTA_OK)
    return fail(privota_error_name(err));
  report(false, "garbage frames (%u sent, %u error replies, every check answered)", sent, error_replies);
}

struct Attempt {
  const char* name;
  void (*run)();
};

constexpr Attempt kAttempts[] = {
    {"open-passwd", open_passwd}, {"open-flash", open_flash},  {"stat-flash", stat_flash},
    {"socket", open_socket},      {"connect", connect_out},    {"exec", exec_true},
    {"ptrace", ptrace_parent},    {"kill", kill_parent},       {"fork-bomb", fork_bomb},
    {"alloc", allocate},          {"garbage", garbage_frames},
};

int usage() {
  fprintf(stderr, "usage: intruder ATTEMPT [FLASH_FILE]\n  ATTEMPT: all");
  for (const Attempt& a : kAttempts)
    fprintf(stderr, " %s", a.name);
  fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return usage();
  g_flash_file = argc == 3 ? argv[2] : nullptr;
  const bool all = strcmp(argv[1], "all") == 0;
  bool ran = false;
  for (const Attempt& a : kAttempts) {
    if (!all && strcmp(argv[1], a.name) != 0) continue;
    if (all && (a.run == open_flash || a.run == stat_flash) && g_flash_file == nullptr) continue;
    a.run();
    ran = true;
  }
  if (!ran) return usage();
  return g_escaped ? 1 : 0;
}
