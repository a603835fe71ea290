// crasher: a user app that crashes on its trial boot (uotadata state NEW or PENDING_VERIFY) and behaves like
// hello once it is valid — the protected app must roll the trial back to the previous user app.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "privota/user.h"

namespace {

// Null, but volatile and global: the compiler cannot prove the write faults, so it emits a real store
// (for a provable null store GCC emits ud2, a SIGILL).
int* volatile g_nowhere = nullptr;

// no_sanitize("undefined"): the null store is the point; UBSan would turn it into a clean exit(1).
[[noreturn]] __attribute__((no_sanitize("undefined"))) void crash() {
  // The default action, even under a sanitizer that would otherwise catch the fault and exit normally.
  signal(SIGSEGV, SIG_DFL);
  *g_nowhere = 1;
  abort();
}

}  // namespace

int main() {
  privota_app_info_t self;
  int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self);
  if (err != PRIVOTA_OK) {
    fprintf(stderr, "crasher: app_info: %s\n", privota_error_name(err));
    return 1;
  }
  if (self.state == PRIVOTA_APP_NEW || self.state == PRIVOTA_APP_PENDING_VERIFY) {
    printf("crasher: %s on trial in slot user_%u: crashing\n", self.version,
           static_cast<unsigned>(self.slot));
    fflush(stdout);
    crash();
  }
  printf("crasher: %s, slot user_%u, secure_version %u\n", self.version, static_cast<unsigned>(self.slot),
         static_cast<unsigned>(self.secure_version));
  fflush(stdout);
  if ((err = privota_ota_mark_valid()) != PRIVOTA_OK) {
    fprintf(stderr, "crasher: ota_mark_valid: %s\n", privota_error_name(err));
    return 1;
  }
  char line[64];
  snprintf(line, sizeof line, "hello from %s", self.version);
  return privota_log(PRIVOTA_LOG_INFO, line) == PRIVOTA_OK ? 0 : 1;
}
