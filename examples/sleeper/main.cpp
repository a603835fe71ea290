// sleeper: a user app that never confirms itself. On a trial boot the protected app's confirmation deadline
// must expire and roll it back.
#include <stdio.h>
#include <unistd.h>

#include "privota/user.h"

int main() {
  privota_app_info_t self;
  int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self);
  if (err != PRIVOTA_OK) {
    fprintf(stderr, "sleeper: app_info: %s\n", privota_error_name(err));
    return 1;
  }
  char line[96];
  snprintf(line, sizeof line, "sleeper %s: sleeping, never confirming", self.version);
  printf("%s\n", line);
  fflush(stdout);
  if ((err = privota_log(PRIVOTA_LOG_INFO, line)) != PRIVOTA_OK) {
    fprintf(stderr, "sleeper: log: %s\n", privota_error_name(err));
    return 1;
  }
  for (;;)
    pause();
}
