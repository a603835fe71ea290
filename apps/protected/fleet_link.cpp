#include "fleet_link.h"

#include <cstring>

#include "privota/host/redacted_url.h"
#include "privota/ota_data.h"

namespace privota::protected_app {
namespace {

using host::FleetLevel;
using host::FleetOutcome;

AppLevel level_of(FleetLevel level) {
  return level == FleetLevel::kUser ? AppLevel::kUser : AppLevel::kProtected;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The job document was checked on arrival (version at most 31 characters, SHA-256 as 64 hex digits).
ImageExpectation expectation_of(const host::FleetJob& job) {
  ImageExpectation e;
  std::strncpy(e.version, job.version.c_str(), sizeof e.version - 1);
  e.size = job.size.value_or(0);
  if (job.sha256 && job.sha256->size() == 2 * sizeof e.sha256) {
    e.have_sha256 = true;
    for (size_t i = 0; i < sizeof e.sha256; ++i)
      e.sha256[i] =
          static_cast<uint8_t>(hex_digit((*job.sha256)[2 * i]) * 16 + hex_digit((*job.sha256)[2 * i + 1]));
  }
  return e;
}

const char* phase_of(JobState state) {
  switch (state) {
    case JobState::kVerifying:
      return "verify";
    case JobState::kActivating:
    case JobState::kRebooting:
      return "activate";
    default:
      return "download";
  }
}

}  // namespace

FleetLink::FleetLink(const host::FleetConfig& config, host::FlashFleetJobStore store, Setup setup)
    : store_(std::move(store)),
      at_boot_(store_.load()),
      s_(std::move(setup)),
      agent_(config, *this, store_) {}

const ImageExpectation* FleetLink::expectation(AppLevel level) {
  if (!at_boot_.job || at_boot_.step != host::FleetJobStep::kRunning ||
      level_of(at_boot_.job->level) != level)
    return nullptr;
  expect_ = expectation_of(*at_boot_.job);
  return &expect_;
}

void FleetLink::adopt(uint32_t ota_job_id) {
  ota_job_ = ota_job_id;
}

void FleetLink::start() {
  agent_.start();
}

RunningApp& FleetLink::app(FleetLevel level) {
  return level == FleetLevel::kUser ? s_.user_app : s_.protected_app;
}

host::FleetAppState FleetLink::app_state(const RunningApp& app) {
  if (!app.present) return {"", 0, ota_state_name(static_cast<uint32_t>(OtaState::kUndefined))};
  uint32_t state = static_cast<uint32_t>(OtaState::kUndefined);
  if (app.slots != nullptr) {
    const Result<OtaDataView> view = read_ota_data(app.slots->select);
    if (view.is_ok()) state = static_cast<uint32_t>(view->active_state());
  }
  return {app.desc.version, app.desc.secure_version, ota_state_name(state)};
}

host::FleetRunningApps FleetLink::running_apps() {
  return {app_state(s_.protected_app), app_state(s_.user_app)};
}

std::string FleetLink::start_job(const host::FleetJob& job) {
  const bool resuming =
      at_boot_.job && at_boot_.job->id == job.id && at_boot_.step == host::FleetJobStep::kRunning;
  at_boot_.job.reset();  // judged once, at this boot's first dispatch
  if (resuming && ota_job_ && s_.ota->running() && s_.ota->job().id == *ota_job_) return {};
  // Cut after the image was selected but before the agent recorded it: the new app already runs.
  const RunningApp& running = app(job.level);
  if (resuming && running.present && job.version == running.desc.version) {
    installed_before_boot_ = true;
    return {};
  }
  const ImageExpectation expect = expectation_of(job);
  const AppLevel level = level_of(job.level);
  const Result<uint32_t> started =
      s_.ota->start(level, {job.url.data(), job.url.size()}, running.present ? running.slot : 1,
                    running.present ? &running.desc : nullptr, &expect);
  if (!started.is_ok()) {
    std::string why = std::string(code_name(started.status().code())) + ": " + started.status().reason();
    s_.log->warn("fleet_job_refused", "fleet job " + job.id + " refused: " + why,
                 {{"job_id", job.id}, {"error", code_name(started.status().code())}});
    return why;
  }
  ota_job_ = started.value();
  s_.job_started();
  s_.log->info("fleet_job_started",
               "fleet job " + job.id + ": " + fleet_level_name(job.level) + " " + job.version + " from " +
                   host::redacted_url(job.url) + " (OTA job " + std::to_string(*ota_job_) + ")",
               {{"job_id", job.id}, {"app_level", fleet_level_name(job.level)}, {"ota_job", *ota_job_}});
  return {};
}

void FleetLink::offer_job(const host::FleetJob& job) {
  if (!s_.offer->offer(job.id.c_str(), job.version.c_str()).is_ok()) return;
  s_.log->info("fleet_job_offered", "fleet job " + job.id + " (" + job.version + ") offered to the user app",
               {{"job_id", job.id}});
}

void FleetLink::poll() {
  pass_answer();
  agent_.poll(std::chrono::milliseconds(0));
  if (installed_before_boot_) {
    installed_before_boot_ = false;
    if (agent_.record().job) agent_.job_activated(agent_.record().job->id);
  }
  report_progress();
  settle();
}

// The user app's answer to the offer goes to the agent; an offer whose job moved on is withdrawn.
void FleetLink::pass_answer() {
  const FleetAnswer answer = s_.offer->take_answer();
  const std::string id = s_.offer->job_id();
  if (answer != FleetAnswer::kNone) {
    s_.log->info("fleet_job_answered",
                 "the user app " + std::string(answer == FleetAnswer::kAccept ? "accepted" : "deferred") +
                     " fleet job " + id,
                 {{"job_id", id}, {"answer", answer == FleetAnswer::kAccept ? "accept" : "defer"}});
    agent_.answer_offer(
        id, answer == FleetAnswer::kAccept ? host::FleetConsent::kAccept : host::FleetConsent::kDefer);
  }
  const host::FleetJobRecord& record = agent_.record();
  if (s_.offer->open() &&
      (!record.job || record.job->id != id || record.step != host::FleetJobStep::kOffered))
    s_.offer->withdraw();
}

void FleetLink::report_progress() {
  if (!ota_job_ || !agent_.record().job || !s_.ota->have_job() || s_.ota->job().id != *ota_job_) return;
  const Result<JobView> view = s_.ota->status(s_.ota->job().level, *ota_job_);
  if (!view.is_ok() || view->finished) return;
  const JobProgress& p = view->progress;
  agent_.job_progress(agent_.record().job->id, phase_of(p.state), p.bytes_done, p.bytes_total);
}

void FleetLink::job_ended(const JobView& job, bool activated) {
  if (!ota_job_ || job.id != *ota_job_ || !agent_.record().job) return;
  ota_job_.reset();
  if (activated) {
    activated_this_boot_ = true;
    agent_.job_activated(agent_.record().job->id);
    return;
  }
  const Status& error = job.progress.error;
  finish(FleetOutcome::kFailed, std::string(code_name(error.code())) + ": " + error.reason());
}

// A job that activated before this boot: the level's app this boot runs says how its trial went.
void FleetLink::settle() {
  const host::FleetJobRecord& record = agent_.record();
  if (activated_this_boot_ || !record.job || record.step != host::FleetJobStep::kAwaitingConfirm) return;
  const RunningApp& running = app(record.job->level);
  if (running.present && running.desc.version == record.job->version) {
    if (app_state(running).state == ota_state_name(static_cast<uint32_t>(OtaState::kValid)))
      finish(FleetOutcome::kSucceeded, "");
    return;  // on trial: it confirms itself, or its trial fails
  }
  finish(FleetOutcome::kRolledBack, "the new app's trial failed; " +
                                        (running.present ? std::string(running.desc.version) : "no app") +
                                        " runs again");
}

void FleetLink::trial_failed(const std::string& why) {
  const host::FleetJobRecord& record = agent_.record();
  if (activated_this_boot_ || !record.job || record.step != host::FleetJobStep::kAwaitingConfirm ||
      record.job->level != FleetLevel::kUser || record.job->version != s_.user_app.desc.version) {
    return;
  }
  finish(FleetOutcome::kRolledBack, "the new app's trial failed: " + why);
}

void FleetLink::finish(FleetOutcome outcome, const std::string& reason) {
  const std::string id = agent_.record().job->id;
  s_.log->info(
      "fleet_job_finished",
      "fleet job " + id + ": " + fleet_outcome_name(outcome) + (reason.empty() ? "" : " (" + reason + ")"),
      {{"job_id", id}, {"outcome", fleet_outcome_name(outcome)}, {"reason", reason}});
  agent_.job_finished(id, outcome, reason);
}

}  // namespace privota::protected_app
