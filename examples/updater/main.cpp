// updater: confirms itself, says what it is, asks the protected app to install the user app at argv[1] (when
// given), and prints the job's progress until it ends. Exit: 0 once the job has ended, whatever its outcome
// (a refused or failed update is news, not a crash: the protected app would restart a crashed app, which
// would ask again); 2 usage; 3 the channel to the protected app failed.
#include <stdio.h>
#include <unistd.h>

#include "privota/user.h"

namespace {

const char* state_name(uint32_t state) {
  switch (state) {
    case PRIVOTA_OTA_QUEUED:
      return "queued";
    case PRIVOTA_OTA_CONNECTING:
      return "connecting";
    case PRIVOTA_OTA_DOWNLOADING:
      return "downloading";
    case PRIVOTA_OTA_VERIFYING:
      return "verifying";
    case PRIVOTA_OTA_ACTIVATING:
      return "activating";
    case PRIVOTA_OTA_REBOOTING:
      return "rebooting";
    case PRIVOTA_OTA_FAILED:
      return "failed";
    case PRIVOTA_OTA_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

bool finished(uint32_t state) {
  return state == PRIVOTA_OTA_REBOOTING || state == PRIVOTA_OTA_FAILED || state == PRIVOTA_OTA_CANCELLED;
}

// "[#####     ] 52% 131072/262144", or "?%" while the size is unknown.
void print_progress(const privota_ota_status_t& s) {
  constexpr int kWidth = 10;
  const bool known = s.bytes_total != 0;
  const uint64_t percent = known ? uint64_t{s.bytes_done} * 100 / s.bytes_total : 0;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i)
    bar[i] = static_cast<uint64_t>(i) < percent * kWidth / 100 ? '#' : ' ';
  bar[kWidth] = '\0';
  if (known) {
    printf("[%s] %u%% %u/%u %s\n", bar, static_cast<unsigned>(percent), static_cast<unsigned>(s.bytes_done),
           static_cast<unsigned>(s.bytes_total), state_name(s.state));
  } else {
    printf("[%s] ?%% %u/? %s\n", bar, static_cast<unsigned>(s.bytes_done), state_name(s.state));
  }
  fflush(stdout);
}

int fail(const char* what, int err) {
  fprintf(stderr, "updater: %s: %s\n", what, privota_error_name(err));
  return err < 0 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    fprintf(stderr, "usage: updater [URL]\n");
    return 2;
  }
  int err = privota_ota_mark_valid();
  if (err != PRIVOTA_OK)
    return fail("ota_mark_valid", err) == 3 ? 3 : 1;  // an app that cannot confirm is broken
  privota_app_info_t self;
  if ((err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self)) != PRIVOTA_OK) return fail("app_info", err);
  printf("updater: %s %s running from user_%u\n", self.project, self.version,
         static_cast<unsigned>(self.slot));
  if (argc == 1) {
    printf("updater: no update asked for\n");
    return 0;
  }
  uint32_t job = 0;
  err = privota_ota_start(argv[1], &job);
  if (err == PRIVOTA_E_BUSY) {
    // A job is already running, e.g. the protected app resumed one after a power cut: follow that one.
    printf("updater: job %u is already running: following it\n", static_cast<unsigned>(job));
  } else if (err != PRIVOTA_OK) {
    return fail("ota_start", err);
  } else {
    printf("updater: job %u: %s\n", static_cast<unsigned>(job), argv[1]);
  }
  privota_ota_status_t status{};
  privota_ota_status_t shown{};
  shown.state = ~0u;
  for (;;) {
    if ((err = privota_ota_status(job, &status)) != PRIVOTA_OK) return fail("ota_status", err);
    if (status.state != shown.state || status.bytes_done != shown.bytes_done ||
        status.bytes_total != shown.bytes_total) {
      print_progress(status);
      shown = status;
    }
    if (finished(status.state)) break;
    usleep(100 * 1000);  // usleep: the rv32 user runtime has it too
  }
  if (status.state == PRIVOTA_OTA_REBOOTING) {
    printf("updater: job %u done; the device reboots into the new user app\n", static_cast<unsigned>(job));
    return 0;
  }
  printf("updater: job %u %s: %s (%s)\n", static_cast<unsigned>(job), state_name(status.state),
         privota_error_name(status.error), status.reason);
  return 0;
}
