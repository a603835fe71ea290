// fleet_app: a user app that runs for ever, as the user app of a fleet device does, and answers the fleet's
// offers (docs/fleet.md, "The user app's consent"): it confirms itself, then looks for an offered job every
// 500 ms, defers the first offers (as an app in the middle of its work would) and accepts the next one.
//
//   fleet_app        defers the first offer, accepts the second
//   fleet_app N      defers the first N offers (0: accepts at once)
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "privota/user.h"

namespace {

int fail(const char* what, int err) {
  fprintf(stderr, "fleet_app: %s: %s\n", what, privota_error_name(err));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int defer = 1;
  if (argc == 2 && argv[1][0] >= '0' && argv[1][0] <= '9') {
    defer = atoi(argv[1]);
  } else if (argc != 1) {
    fprintf(stderr, "usage: fleet_app [OFFERS_TO_DEFER]\n");
    return 2;
  }
  if (const int err = privota_ota_mark_valid(); err != PRIVOTA_OK) return fail("mark_valid", err);
  privota_app_info_t self;
  if (const int err = privota_app_info(PRIVOTA_RUNNING_SLOT, &self); err != PRIVOTA_OK)
    return fail("app_info", err);
  printf("fleet_app %s: running, answering fleet offers (deferring the first %d)\n", self.version, defer);
  fflush(stdout);
  for (int deferred = 0;;) {
    usleep(500 * 1000);
    privota_fleet_offer_t offer;
    const int err = privota_fleet_offer(&offer);
    if (err == PRIVOTA_E_NOT_FOUND) continue;
    if (err != PRIVOTA_OK) return fail("fleet_offer", err);
    const int answer = deferred < defer ? PRIVOTA_FLEET_DEFER : PRIVOTA_FLEET_ACCEPT;
    if (const int e = privota_fleet_answer(offer.job_id, answer); e != PRIVOTA_OK)
      return fail("fleet_answer", e);
    printf("fleet_app: %s job %s (version %s)\n", answer == PRIVOTA_FLEET_DEFER ? "deferred" : "accepted",
           offer.job_id, offer.version);
    fflush(stdout);
    if (answer == PRIVOTA_FLEET_DEFER) ++deferred;
  }
}
