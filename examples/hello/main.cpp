// hello: the smallest well-behaved user app. Says which version and slot it is, confirms itself (so a trial
// boot becomes permanent) and leaves a line in the protected app's log.
#include <stdio.h>

#include "privota/user.h"

int main() {
  privota_app_info_t self;
  int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self);
  if (err != PRIVOTA_OK) {
    fprintf(stderr, "hello: app_info: %s\n", privota_error_name(err));
    return 1;
  }
  printf("hello: %s %s, slot user_%u, secure_version %u\n", self.project, self.version,
         static_cast<unsigned>(self.slot), static_cast<unsigned>(self.secure_version));
  fflush(stdout);
  if ((err = privota_ota_mark_valid()) != PRIVOTA_OK) {
    fprintf(stderr, "hello: ota_mark_valid: %s\n", privota_error_name(err));
    return 1;
  }
  char line[64];
  snprintf(line, sizeof line, "hello from %s", self.version);
  if ((err = privota_log(PRIVOTA_LOG_INFO, line)) != PRIVOTA_OK) {
    fprintf(stderr, "hello: log: %s\n", privota_error_name(err));
    return 1;
  }
  return 0;
}
