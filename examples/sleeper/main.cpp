// sleeper: a user app that stops answering, in one of three ways, for the protected app's supervision:
//
//   sleeper                  never confirms itself, sleeps: on a trial boot the confirmation deadline must
//                            expire and roll it back
//   sleeper --hangup         confirms, closes its channel (fd 3) and its output, then sleeps: a closed
//                            channel is the app's end (no busy loop in the protected app)
//   sleeper --watchdog MS    confirms, arms its watchdog for MS ms, feeds it three times, then sleeps: the
//                            missed feed is a crash
//   sleeper --flood          confirms, then floods stdout (8 MiB) and the log call (5000 lines) and exits 0:
//                            the protected app prints what fits its log budget and counts the rest
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privota/user.h"

namespace {

int fail(const char* what, int err) {
  fprintf(stderr, "sleeper: %s: %s\n", what, privota_error_name(err));
  return 1;
}

[[noreturn]] void sleep_for_ever() {
  for (;;)
    pause();
}

int hang_up() {
  printf("sleeper: confirming, then closing the channel and sleeping\n");
  fflush(stdout);
  if (const int err = privota_ota_mark_valid(); err != PRIVOTA_OK) return fail("mark_valid", err);
  close(PRIVOTA_CHANNEL_FD);
  close(1);
  close(2);
  sleep_for_ever();
}

int starve_watchdog(uint32_t period_ms) {
  if (const int err = privota_ota_mark_valid(); err != PRIVOTA_OK) return fail("mark_valid", err);
  if (const int err = privota_watchdog_arm(period_ms); err != PRIVOTA_OK) return fail("watchdog_arm", err);
  for (int i = 0; i < 3; ++i) {
    usleep(period_ms * 500);  // half a period
    if (const int err = privota_watchdog_feed(); err != PRIVOTA_OK) return fail("watchdog_feed", err);
  }
  printf("sleeper: fed the watchdog three times, now starving it\n");
  fflush(stdout);
  sleep_for_ever();
}

int flood() {
  if (const int err = privota_ota_mark_valid(); err != PRIVOTA_OK) return fail("mark_valid", err);
  static char line[1024];
  memset(line, 'x', sizeof line - 1);
  for (int i = 0; i < 8 * 1024; ++i)
    puts(line);
  fflush(stdout);
  line[100] = '\0';  // 5000 log lines of 100 bytes: far over the burst
  for (int i = 0; i < 5000; ++i) {
    if (const int err = privota_log(PRIVOTA_LOG_INFO, line); err != PRIVOTA_OK) return fail("log", err);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--hangup") == 0) return hang_up();
  if (argc == 2 && strcmp(argv[1], "--flood") == 0) return flood();
  if (argc == 3 && strcmp(argv[1], "--watchdog") == 0)
    return starve_watchdog(static_cast<uint32_t>(strtoul(argv[2], nullptr, 10)));
  if (argc != 1) {
    fprintf(stderr, "usage: sleeper [--hangup | --watchdog MS | --flood]\n");
    return 2;
  }
  privota_app_info_t self;
  int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self);
  if (err != PRIVOTA_OK) return fail("app_info", err);
  char line[96];
  snprintf(line, sizeof line, "sleeper %s: sleeping, never confirming", self.version);
  printf("%s\n", line);
  fflush(stdout);
  if ((err = privota_log(PRIVOTA_LOG_INFO, line)) != PRIVOTA_OK) return fail("log", err);
  sleep_for_ever();
}
