#include "privota/syscall_service.h"

#include <string.h>

#include "privota/boot_select.h"
#include "privota/ota_data.h"

namespace privota {

using syscall::Call;
using syscall::Frame;

namespace {

// Which user-level writes could have changed the passive slot: the user-level job and whether it ended.
uint32_t user_write_epoch(const OtaService& ota) {
  if (!ota.have_job() || ota.job().level != AppLevel::kUser) return 0;
  return ota.job().id * 2 + (ota.job().finished ? 1 : 0);
}

bool user_job_running(const OtaService& ota) {
  return ota.running() && ota.job().level == AppLevel::kUser;
}

// "project version" into the answer; both fields are bounded by the descriptor format, so it always fits.
void set_app_text(const AppDescriptor& desc, Frame& response) {
  char text[sizeof desc.project_name + sizeof desc.version + 1] = {};
  size_t n = strlen(desc.project_name);
  memcpy(text, desc.project_name, n);
  text[n++] = ' ';
  memcpy(text + n, desc.version, strlen(desc.version));
  (void)response.set_string(text);
}

}  // namespace

SyscallOutcome SyscallService::serve(ConstByteSpan message, ByteSpan answer, uint64_t now_ms) {
  const Result<Frame> request = syscall::decode(message, /*expect_response=*/false);
  Frame response;
  response.response = true;
  SyscallOutcome outcome;
  if (request.is_ok()) {
    response.call = request->call;
    response.id = request->id;
    outcome = handle(request.value(), response, now_ms);
  } else {
    ++malformed_;
    response.call = Call::kLog;
    response.status = request.status().code();
    outcome.notice = SyscallNotice::kMalformed;
    outcome.status = request.status();
  }
  (void)syscall::encode(response, answer);  // answer is a whole frame (the contract): this cannot fail
  return outcome;
}

SyscallOutcome SyscallService::handle(const Frame& request, Frame& response, uint64_t now_ms) {
  SyscallOutcome outcome;
  switch (request.call) {
    case Call::kOtaStart:
      return ota_start(request, response);
    case Call::kOtaStatus:
      ota_status(request, response);
      break;
    case Call::kOtaCancel:
      response.status = ota_.cancel(AppLevel::kUser, request.values[0]).code();
      break;
    case Call::kOtaMarkValid:
      return mark_valid(response, now_ms);
    case Call::kOtaMarkInvalidAndReboot:
      return mark_invalid(now_ms);
    case Call::kAppInfo:
      app_info(request, response);
      break;
    case Call::kLog:
      log(request, now_ms);
      break;
    case Call::kRestart:
      outcome.action = supervisor_.on({SupervisorEventKind::kRestartAsked, now_ms});
      break;
    case Call::kWatchdogArm: {
      SupervisorEvent armed{SupervisorEventKind::kWatchdogArmed, now_ms};
      armed.code = static_cast<int32_t>(request.values[0]);
      outcome.action = supervisor_.on(armed);
      break;
    }
    case Call::kWatchdogFeed:
      outcome.action = supervisor_.on({SupervisorEventKind::kWatchdogFed, now_ms});
      break;
    case Call::kFleetOffer:
      fleet_offer(response);
      break;
    case Call::kFleetAnswer:
      fleet_answer(request, response);
      break;
  }
  return outcome;
}

SyscallOutcome SyscallService::ota_start(const Frame& request, Frame& response) {
  SyscallOutcome outcome;
  Result<uint32_t> job = Status::error(Code::kBadState, "the user app is on trial: confirm it first");
  if (!supervisor_.on_trial()) {
    job = ota_.start(AppLevel::kUser,
                     {request.string(), request.payload_len > 0 ? request.payload_len - 1u : 0u}, app_.slot,
                     &app_.desc);
  }
  response.status = job.status().code();
  response.values[0] = job.is_ok() ? job.value() : job.status().detail();
  if (job.is_ok()) {
    outcome.action = supervisor_.on({SupervisorEventKind::kJobStarted});
    outcome.notice = SyscallNotice::kOtaAccepted;
  } else {
    outcome.notice = SyscallNotice::kOtaRefused;
    outcome.status = job.status();
  }
  return outcome;
}

void SyscallService::ota_status(const Frame& request, Frame& response) {
  const Result<JobView> status = ota_.status(AppLevel::kUser, request.values[0]);
  response.status = status.status().code();
  if (!status.is_ok()) return;
  const JobProgress& p = status->progress;
  response.values[0] = static_cast<uint32_t>(p.state);
  response.values[1] = p.bytes_done;
  response.values[2] = p.bytes_total;
  response.values[3] = static_cast<uint32_t>(p.error.code());
  // The core's reasons are short static texts; one longer than the SDK keeps is left out, never cut.
  if (!p.error.is_ok() && strlen(p.error.reason()) <= syscall::kReasonMax)
    (void)response.set_string(p.error.reason());
}

SyscallOutcome SyscallService::mark_valid(Frame& response, uint64_t now_ms) {
  SyscallOutcome outcome;
  // A job has already selected the new image (or is writing that selection): writing this app's selection
  // now would undo that (the next boot would run this app again instead of trying the new one). This app
  // is not on trial (ota_start refuses a trial app), so there is nothing to confirm. The job's own progress
  // says so at once; its end reaches the service only when the platform reports it.
  if (ota_.selecting()) {
    outcome.action = supervisor_.on({SupervisorEventKind::kConfirmed, now_ms});
    return outcome;
  }
  const Result<OtaDataView> view = read_ota_data(app_.slots->select);
  const bool already = view.is_ok() && app_is_confirmed(view.value(), app_.slots->slot_count, app_.slot,
                                                        app_.desc.secure_version);
  // A user-level job keeps its journal in the active uotadata sector; a selection write would orphan it.
  if (!already && user_job_running(ota_)) {
    response.status = Code::kBusy;
    response.values[0] = ota_.job().id;
    return outcome;
  }
  const bool was_trial = supervisor_.on_trial();
  const Status marked = mark_app_valid(*app_.slots, app_.slot, app_.desc.secure_version);
  response.status = marked.code();
  if (!marked.is_ok()) return outcome;
  outcome.action = supervisor_.on({SupervisorEventKind::kConfirmed, now_ms});
  if (was_trial || !already) outcome.notice = SyscallNotice::kConfirmed;
  return outcome;
}

SyscallOutcome SyscallService::mark_invalid(uint64_t now_ms) {
  // The app's own job stops first and closes its journal: the selection write that follows must not leave
  // a live record behind. The owner's job is not the app's to stop; the reboot only suspends it.
  ota_.cancel_level(AppLevel::kUser);
  SyscallOutcome outcome;
  outcome.action = supervisor_.on({SupervisorEventKind::kInvalidAndRebootAsked, now_ms});
  outcome.notice = SyscallNotice::kGaveUp;
  return outcome;
}

void SyscallService::log(const Frame& request, uint64_t now_ms) {
  if (!log_budget_.take(request.payload_len, now_ms)) return;
  if (log_budget_.dropping()) {
    const LogBudget::Dropped dropped = log_budget_.take_dropped();
    platform_.user_log_dropped("log", dropped.lines, dropped.bytes);
  }
  platform_.user_log(request.values[0], request.string());
}

void SyscallService::fleet_offer(Frame& response) {
  if (fleet_offer_ == nullptr || !fleet_offer_->open()) {
    response.status = Code::kNotFound;
    return;
  }
  // "id version": both bounded (96 + 1 + 31 bytes), so it always fits; the id has no spaces.
  char text[FleetOffer::kJobIdMax + FleetOffer::kVersionMax + 2] = {};
  const size_t n = strlen(fleet_offer_->job_id());
  memcpy(text, fleet_offer_->job_id(), n);
  text[n] = ' ';
  memcpy(text + n + 1, fleet_offer_->version(), strlen(fleet_offer_->version()));
  (void)response.set_string(text);
}

void SyscallService::fleet_answer(const Frame& request, Frame& response) {
  if (fleet_offer_ == nullptr) {
    response.status = Code::kNotFound;
    return;
  }
  const FleetAnswer answer =
      request.values[0] == syscall::kFleetAccept ? FleetAnswer::kAccept : FleetAnswer::kDefer;
  response.status = fleet_offer_->answer(request.string(), answer, supervisor_.on_trial()).code();
}

void SyscallService::app_info(const Frame& request, Frame& response) {
  const uint32_t slot = request.values[0] == syscall::kRunningSlot ? app_.slot : request.values[0];
  if (slot >= app_.slots->slot_count) {
    response.status = Code::kInvalidArgument;
    return;
  }
  AppDescriptor desc = app_.desc;
  if (slot != app_.slot) {
    const Result<AppDescriptor> other = other_slot(slot);
    if (!other.is_ok()) {
      response.status = Code::kNotFound;  // that slot holds nothing this device would run
      return;
    }
    desc = other.value();
  }
  response.values[0] = slot;
  response.values[1] = desc.secure_version;
  response.values[2] = slot_state(slot);
  response.values[3] = slot == app_.slot ? 1 : 0;
  set_app_text(desc, response);
}

// Verifying a slot costs a full SHA-256 and a signature check: a loop of app_info calls must not turn that
// into work for the protected app. Only an OTA job of the user level writes the other slot.
Result<AppDescriptor> SyscallService::other_slot(uint32_t slot) {
  const uint32_t epoch = user_write_epoch(ota_);
  if (verdict_.known && verdict_.slot == slot && verdict_.job_id == epoch && !user_job_running(ota_))
    return verdict_.image;
  verdict_.image = platform_.verify_user_slot(slot);
  verdict_.known = !user_job_running(ota_);
  verdict_.slot = slot;
  verdict_.job_id = epoch;
  return verdict_.image;
}

// The state of the entry that selects `slot`: the active one, else the older one (a rolled-back or superseded
// app), else UNDEFINED.
uint32_t SyscallService::slot_state(uint32_t slot) {
  const Result<OtaDataView> view = read_ota_data(app_.slots->select);
  if (!view.is_ok() || view->active < 0) return static_cast<uint32_t>(OtaState::kUndefined);
  const int order[2] = {view->active, 1 - view->active};
  for (const int e : order) {
    const OtaSelectEntry& entry = view->entries[e];
    if (entry.valid() && entry.slot(app_.slots->slot_count) == slot) return entry.ota_state;
  }
  return static_cast<uint32_t>(OtaState::kUndefined);
}

}  // namespace privota
