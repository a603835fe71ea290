// FleetOffer: a fleet job waiting for the user app's consent (docs/fleet.md, "The user app's consent"), as
// the system calls see it. The platform's fleet agent puts a user-level job on offer; the user app reads it
// (fleet_offer) and answers it once (fleet_answer); the agent takes the answer. Only the job's id and version
// are shown: the user app never sees or changes where the image comes from.
//
//   call / event                 rule
//   --------------------------   ---------------------------------------------------------------------------
//   offer(id, version)           replaces any earlier offer; an id or version that does not fit is refused
//   fleet_offer                  the offer, or kNotFound when none is open
//   fleet_answer(id, answer)     kNotFound unless `id` is the open offer; ACCEPT from an app on trial is
//                                kBadState (an update never starts from an app that may be rolled back, as
//                                for ota_start); otherwise the offer closes and the answer waits for the
//                                agent
//   withdraw                     the job ended or started another way: nothing is on offer
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"

namespace privota {

enum class FleetAnswer : uint8_t { kNone = 0, kAccept = 1, kDefer = 2 };

class FleetOffer {
 public:
  static constexpr size_t kJobIdMax = 96;    // docs/fleet.md: 1..96 characters
  static constexpr size_t kVersionMax = 31;  // esp_app_desc_t.version without its NUL

  // The platform: `job_id` is on offer (its answer, if any was not taken yet, is dropped).
  Status offer(const char* job_id, const char* version);
  void withdraw();

  // The user app: the open offer's id and version.
  bool open() const { return open_; }
  const char* job_id() const { return job_id_; }
  const char* version() const { return version_; }
  // The user app answers the open offer `job_id`; `trial`: the app has not confirmed itself yet.
  Status answer(const char* job_id, FleetAnswer answer, bool trial);

  // The platform: the answer given since the last call (kNone: none), for job_id().
  FleetAnswer take_answer();

 private:
  bool open_ = false;
  FleetAnswer answer_ = FleetAnswer::kNone;
  char job_id_[kJobIdMax + 1] = {};
  char version_[kVersionMax + 1] = {};
};

}  // namespace privota
