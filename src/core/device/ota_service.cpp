#include "privota/ota_service.h"

#include <string.h>

#include "privota/ota_journal.h"

namespace privota {

const char* app_level_name(AppLevel level) {
  return level == AppLevel::kUser ? "user" : "protected";
}

bool refused_image(const OtaDataView& view, AppDescriptor& image) {
  const BudgetRecord budget = view.budget();
  if (!budget.have_rejected_image) return false;
  image = AppDescriptor();
  memcpy(image.version, budget.rejected_version, kRejectedVersionSize);
  memcpy(image.app_elf_sha256, budget.rejected_elf_sha256, kRejectedDigestSize);
  return true;
}

void set_job_request(OtaJobContext& c, const JobRequest& request, AppSlots& slots, AppDescriptor& refused) {
  c.slots = &slots;
  c.running_slot = request.running_slot;
  c.running = request.have_running ? &request.running : nullptr;
  c.expect = request.have_expect ? &request.expect : nullptr;
  const Result<OtaDataView> view = read_ota_data(slots.select);
  c.policy.min_secure_version = view.is_ok() ? view->secure_version_floor() : 0;
  c.rejected = view.is_ok() && refused_image(view.value(), refused) ? &refused : nullptr;
}

namespace {

Status copy_url(Span<const char> url, JobRequest& request) {
  if (url.size() > kMaxLocationLength) return Status::error(Code::kUrlTooLong, "URL longer than a job keeps");
  memcpy(request.url, url.data(), url.size());
  request.url[url.size()] = '\0';
  return Status::ok();
}

void set_running(JobRequest& request, uint32_t running_slot, const AppDescriptor* running,
                 const ImageExpectation* expect) {
  request.running_slot = running_slot;
  request.have_running = running != nullptr;
  if (running != nullptr) request.running = *running;
  request.have_expect = expect != nullptr;
  if (expect != nullptr) request.expect = *expect;
}

}  // namespace

Result<uint32_t> OtaService::start(AppLevel level, Span<const char> url, uint32_t running_slot,
                                   const AppDescriptor* running, const ImageExpectation* expect) {
  PRIVOTA_TRY(check_url(url, policy_).status());
  JobRequest request;
  request.level = level;
  PRIVOTA_TRY(copy_url(url, request));
  set_running(request, running_slot, running, expect);
  return launch(request);
}

Result<uint32_t> OtaService::resume(AppSlots& slots, AppLevel level, uint32_t running_slot,
                                    const AppDescriptor* running, const ImageExpectation* expect) {
  PRIVOTA_ASSIGN_OR_RETURN(const JournalRecord record, read_live_journal(slots));
  // The policy may have changed since the job began (a new protected app): judge the URL again.
  PRIVOTA_TRY(check_url({record.url, record.url_len}, policy_).status());
  JobRequest request;
  request.level = level;  // an empty URL: the runner's job takes over the journal's
  set_running(request, running_slot, running, expect);
  return launch(request);
}

Result<uint32_t> OtaService::launch(JobRequest& request) {
  if (running()) {
    const uint32_t id = job_.level == request.level ? job_.id : 0;
    return Status::error(Code::kBusy, "another OTA job is running", id);
  }
  // The last job selected its image: the device reboots into it; another download now would be wasted.
  if (activated_) {
    const uint32_t id = job_.level == request.level ? job_.id : 0;
    return Status::error(Code::kBusy, "an update is installed and the device is rebooting", id);
  }
  request.id = next_id_++;
  PRIVOTA_TRY(runner_.start(request));  // a runner keeps its own copy of what it needs
  job_ = JobView{};
  job_.id = request.id;
  job_.level = request.level;
  have_job_ = true;
  return request.id;
}

bool OtaService::visible(AppLevel caller, uint32_t id) const {
  return have_job_ && job_.id == id && job_.level == caller;
}

Result<JobView> OtaService::status(AppLevel caller, uint32_t id) {
  if (!visible(caller, id)) return Status::error(Code::kNotFound, "no OTA job with this id", id);
  if (!job_.finished) job_.progress = runner_.progress();
  return job_;
}

Status OtaService::cancel(AppLevel caller, uint32_t id) {
  if (!visible(caller, id)) return Status::error(Code::kNotFound, "no OTA job with this id", id);
  if (job_.finished) return Status::error(Code::kBadState, "the OTA job has already ended", id);
  runner_.stop(/*keep_journal=*/false);
  return Status::ok();
}

bool OtaService::selecting() {
  if (activated_) return true;
  if (!running()) return false;
  const JobState state = runner_.progress().state;
  return state == JobState::kActivating || state == JobState::kRebooting;
}

void OtaService::cancel_level(AppLevel level) {
  if (running() && job_.level == level) runner_.stop(/*keep_journal=*/false);
}

void OtaService::suspend() {
  if (running()) runner_.stop(/*keep_journal=*/true);
}

SupervisorEventKind OtaService::on_job_finished(Status outcome, const JobProgress& last) {
  job_.progress = last;
  if (!outcome.is_ok()) {
    job_.progress.error = outcome;
    if (last.state != JobState::kCancelled)
      job_.progress.state = outcome.code() == Code::kCancelled ? JobState::kCancelled : JobState::kFailed;
  }
  job_.finished = true;
  activated_ = activated_ || outcome.is_ok();
  return outcome.is_ok() ? SupervisorEventKind::kJobActivated : SupervisorEventKind::kJobEnded;
}

}  // namespace privota
