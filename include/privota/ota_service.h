// OtaService: the protected app's OTA jobs as a device sees them — one job at a time, for either level, each
// owned by the level that asked for it (the user app asks for user-level jobs; the device owner for
// protected-app jobs), resumed from its journal at boot, and followed by a reboot once it selected an image.
//
//   request                          answer
//   ------------------------------   ----------------------------------------------------------------------
//   start, URL outside the policy    that URL refusal (kUrl*), nothing started
//   start, a job runs                kBusy; detail = the job's id when the caller owns it, else 0 (a user app
//                                    never learns about, nor touches, the owner's job)
//   start, an image was selected     kBusy (the device is about to reboot into it)
//   resume at boot                   the level's live journal record, its URL judged again by the policy
//   status / cancel, caller's job    the job's progress / the job stops and its journal is closed
//   status / cancel, another level   kNotFound, as for an id that never existed
//   the device reboots or halts      the job stops with its journal live: the next boot resumes it
//
// How a job runs is the platform's (a thread on Linux, the main loop on bare metal): the JobRunner. The
// platform reports the end with on_job_finished(), which answers the event the supervisor must hear.
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/ota_data.h"
#include "privota/ota_job.h"
#include "privota/result.h"
#include "privota/span.h"
#include "privota/supervisor.h"
#include "privota/url_policy.h"

namespace privota {

const char* app_level_name(AppLevel level);

// The image this level refuses to install again: the last one rolled back because it was marked INVALID
// (it crashed, exited, did not confirm in time or gave up on itself) or ABORTED, kept in the budget record
// (version + ELF SHA-256 prefix) and carried forward by every selection write, so it survives any number of
// jobs and journal rotations. A trial that only ran out of boots that never reported (power cuts) is not
// refused. false when there is none. A job refuses that very image (OtaJobContext's `rejected`).
bool refused_image(const OtaDataView& view, AppDescriptor& image);

struct JobRequest {
  uint32_t id = 0;
  AppLevel level = AppLevel::kUser;
  char url[kMaxLocationLength + 1] = {};  // NUL-terminated; empty: resume from the level's journal
  uint32_t running_slot = 0;              // the level's running app
  bool have_running = false;              // a running app whose version an update must exceed
  AppDescriptor running;
  bool have_expect = false;  // the requester's expectation of the image (a fleet job's)
  ImageExpectation expect;
};

// What a request and its level's select partition say about the job, the same for every port's JobRunner:
// the slots, the running app an update must exceed, the requester's expectation, the anti-rollback floor
// (into c.policy, which the caller set for the level first) and the image this level refuses to install
// again (kept in `refused`, which must outlive the job).
void set_job_request(OtaJobContext& c, const JobRequest& request, AppSlots& slots, AppDescriptor& refused);

class JobRunner {
 public:
  // Starts `request` in the background and returns at once.
  virtual Status start(const JobRequest& request) = 0;
  // Asks the running job to stop between chunks. `keep_journal`: the device reboots and the next boot
  // resumes the job; otherwise its journal is closed (cancelled by its owner).
  virtual void stop(bool keep_journal) = 0;
  // The running job's progress so far.
  virtual JobProgress progress() = 0;

 protected:
  ~JobRunner() = default;
};

struct JobView {
  uint32_t id = 0;
  AppLevel level = AppLevel::kUser;
  JobProgress progress;
  bool finished = false;
};

class OtaService {
 public:
  OtaService(JobRunner& runner, const UrlPolicy& policy) : runner_(runner), policy_(policy) {}

  // A new job for `level` from `url` (checked against the policy here). `running`: the level's running app
  // (nullptr: none, any version goes). `expect`: what the image must be (nullptr: any signed newer image).
  Result<uint32_t> start(AppLevel level, Span<const char> url, uint32_t running_slot,
                         const AppDescriptor* running, const ImageExpectation* expect = nullptr);
  // Continues the job whose journal `slots` holds (kNotFound: none), with the expectation it began with.
  Result<uint32_t> resume(AppSlots& slots, AppLevel level, uint32_t running_slot,
                          const AppDescriptor* running, const ImageExpectation* expect = nullptr);

  // What `caller` may see of job `id`.
  Result<JobView> status(AppLevel caller, uint32_t id);
  Status cancel(AppLevel caller, uint32_t id);
  // Stops the running job of `level` (if any) and closes its journal: its owner writes the level's
  // selection next (mark invalid), which must not leave a live record behind.
  void cancel_level(AppLevel level);
  // The device reboots or halts: the running job stops and keeps its journal.
  void suspend();

  // The platform: the running job ended with `outcome` and `last` progress. Answers kJobActivated when it
  // selected an image (the device reboots into it), else kJobEnded.
  SupervisorEventKind on_job_finished(Status outcome, const JobProgress& last);

  bool running() const { return have_job_ && !job_.finished; }
  bool activated() const { return activated_; }
  // A job has selected its image or is writing that selection (ACTIVATING, REBOOTING): from then on
  // nothing may write the level's selection, and the running app has nothing left to confirm. True before
  // the platform reported the job's end, which may come a loop round later.
  bool selecting();
  // The current or last job (valid when have_job()).
  bool have_job() const { return have_job_; }
  const JobView& job() const { return job_; }

 private:
  Result<uint32_t> launch(JobRequest& request);
  bool visible(AppLevel caller, uint32_t id) const;

  JobRunner& runner_;
  const UrlPolicy& policy_;
  JobView job_;
  bool have_job_ = false;
  bool activated_ = false;
  uint32_t next_id_ = 1;
};

}  // namespace privota
