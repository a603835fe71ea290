#include "privota/fleet_offer.h"

#include <string.h>

namespace privota {
namespace {

// Copies `text` whole into `out` (capacity `max` + NUL), or refuses: an id is never cut.
bool copy_whole(char* out, size_t max, const char* text) {
  const size_t n = strlen(text);
  if (n == 0 || n > max) return false;
  memcpy(out, text, n + 1);
  return true;
}

}  // namespace

Status FleetOffer::offer(const char* job_id, const char* version) {
  withdraw();
  if (!copy_whole(job_id_, kJobIdMax, job_id) || !copy_whole(version_, kVersionMax, version)) {
    withdraw();
    return Status::error(Code::kLimitExceeded, "fleet job id or version too long to offer");
  }
  open_ = true;
  return Status::ok();
}

void FleetOffer::withdraw() {
  open_ = false;
  answer_ = FleetAnswer::kNone;
  job_id_[0] = '\0';
  version_[0] = '\0';
}

Status FleetOffer::answer(const char* job_id, FleetAnswer answer, bool trial) {
  if (!open_ || strcmp(job_id, job_id_) != 0)
    return Status::error(Code::kNotFound, "no fleet job with this id is on offer");
  if (answer == FleetAnswer::kAccept && trial)
    return Status::error(Code::kBadState, "the user app is on trial: confirm it first");
  open_ = false;
  answer_ = answer;
  return Status::ok();
}

FleetAnswer FleetOffer::take_answer() {
  const FleetAnswer answer = answer_;
  answer_ = FleetAnswer::kNone;
  return answer;
}

}  // namespace privota
