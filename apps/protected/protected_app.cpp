#include "protected_app.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "privota/host/app_payload.h"
#include "privota/host/device_protocol.h"
#include "privota/host/selection_record.h"
#include "privota/host/slot_verifier.h"
#include "privota/ota_data.h"

namespace privota::protected_app {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using syscall::Call;
using syscall::Frame;

// How long the user app gets to see REBOOTING and end by itself before the device reboots under it.
constexpr auto kRebootGrace = std::chrono::milliseconds(1000);
constexpr int kPollMs = 50;

std::string describe(const host::ExitStatus& exit) {
  if (exit.kind == host::ExitStatus::Kind::kSignaled) {
    const char* name = sigabbrev_np(exit.signal);
    return std::string("was killed by SIG") + (name != nullptr ? name : std::to_string(exit.signal));
  }
  return "exited with code " + std::to_string(exit.code);
}

bool is_crash(const host::ExitStatus& exit) {
  return !exit.exited(0);
}

}  // namespace

ProtectedApp::ProtectedApp(Flash& flash, PartitionTable table, const host::DeviceConfig& config,
                           host::EventLog& log, Boot boot, std::atomic<uint32_t>* position_probe)
    : flash_(flash),
      table_(std::move(table)),
      config_(config),
      log_(log),
      boot_(std::move(boot)),
      trust_(config),
      wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  OtaService::Setup setup;
  setup.flash = &flash_;
  setup.table = table_;
  setup.config = &config_;
  setup.trust = &trust_;
  setup.log = &log_;
  setup.wake_fd = wake_.get();
  setup.position_probe = position_probe;
  ota_.emplace(std::move(setup));
}

ProtectedApp::~ProtectedApp() {
  stop_user_app();
  ota_.reset();
}

int ProtectedApp::run() {
  log_.info("protected_started",
            "protected app " + boot_.version + " running from ota_" + std::to_string(boot_.slot),
            {{"slot", boot_.slot}, {"version", boot_.version}, {"secure_version", boot_.secure_version}});
  confirm_self();
  const bool have_user_app = select_user_app();
  start_owner_jobs();
  if (!have_user_app && !ota_->running()) return host::kExitNoBootableUserApp;
  Next next = Next::kKeepRunning;
  if (have_user_app && !launch()) next = fail_trial("it could not be started");
  while (next == Next::kKeepRunning)
    next = supervise();
  stop_user_app();
  ota_->stop();
  if (next == Next::kReboot) {
    log_.info("reboot", "rebooting");
    return host::kExitReboot;
  }
  log_.info("halt", "nothing left to do: the device halts");
  return host::kExitHalt;
}

// A protected app on trial that got this far (it reads flash, verifies, serves) is good: it confirms itself,
// which also raises otadata's anti-rollback floor to its secure_version.
void ProtectedApp::confirm_self() {
  Result<AppSlots> slots = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (!slots.is_ok()) return;
  const Result<OtaDataView> view = read_ota_data(slots->select);
  if (!view.is_ok() || view->active_state() != OtaState::kPendingVerify) return;
  const Status marked = mark_app_valid(slots.value(), boot_.slot, boot_.secure_version);
  if (marked.is_ok()) {
    log_.info("protected_confirmed", "protected app " + boot_.version + " passed its trial: marked valid",
              {{"slot", boot_.slot}, {"secure_version", boot_.secure_version}});
  } else {
    log_.error("protected_confirm_failed",
               std::string("could not mark the protected app valid: ") + marked.reason());
  }
}

bool ProtectedApp::select_user_app() {
  Result<AppSlots> slots = AppSlots::from_table(flash_, table_, AppLevel::kUser);
  if (!slots.is_ok()) {
    log_.error("no_bootable_user_app",
               std::string("partition table has no user app slots: ") + slots.status().reason());
    return false;
  }
  user_slots_ = slots.value();
  host::SlotVerifier verifier;
  Result<BootDecision> decision = verifier.select(user_slots_, trust_.policy(AppLevel::kUser));
  if (!decision.is_ok()) {
    log_.error("no_bootable_user_app", std::string("no user app to run: ") + decision.status().reason(),
               {{"error", code_name(decision.status().code())}});
    return false;
  }
  user_ = decision.value();
  const host::SelectionRecord record = host::selection_record(AppLevel::kUser, *user_);
  log_.info("user_selected", record.message, record.fields);
  Result<std::vector<uint8_t>> payload =
      host::read_app_payload(user_slots_.slots[user_->slot], user_->image.info);
  if (!payload.is_ok()) {
    log_.error("no_bootable_user_app",
               std::string("user image has no payload: ") + payload.status().reason());
    user_.reset();
    return false;
  }
  executable_ = std::move(payload.value());
  return true;
}

// Jobs that began before this boot (power cut, reboot) continue; the owner's request for a protected-app
// update (privota-sim --protected-update) starts.
void ProtectedApp::start_owner_jobs() {
  const AppDescriptor* running_user = user_ ? &user_->image.info.desc : nullptr;
  Result<uint32_t> resumed = ota_->resume(AppLevel::kProtected, boot_.slot, nullptr);
  if (!resumed.is_ok() && user_) resumed = ota_->resume(AppLevel::kUser, user_->slot, running_user);
  if (!resumed.is_ok() && resumed.status().code() != Code::kNotFound) {
    log_.warn("ota_resume_refused",
              std::string("the interrupted OTA job cannot continue: ") + resumed.status().reason());
  }
  if (config_.protected_update_url.empty()) return;
  if (ota_->running()) {
    log_.warn("ota_refused", "protected-app update not started: an interrupted job is continuing");
    return;
  }
  // An update must be newer than this protected app, whose descriptor its own slot holds.
  std::optional<SignedImage> self;
  Result<AppSlots> own = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (own.is_ok()) {
    const Result<SignedImage> verified =
        verify_slot(own.value(), boot_.slot, trust_.policy(AppLevel::kProtected));
    if (verified.is_ok()) self = verified.value();
  }
  const Result<uint32_t> started = ota_->start(AppLevel::kProtected, config_.protected_update_url, boot_.slot,
                                               self ? &self->info.desc : nullptr);
  if (!started.is_ok()) {
    log_.warn("ota_refused",
              std::string("protected-app update refused: ") + code_name(started.status().code()) + ": " +
                  started.status().reason(),
              {{"level", "protected"}, {"error", code_name(started.status().code())}});
  }
}

bool ProtectedApp::launch() {
  const AppDescriptor& desc = user_->image.info.desc;
  Result<UserAppProcess> process = launch_user_app(executable_, config_.user_app, desc.project_name);
  if (!process.is_ok()) {
    log_.error("user_launch_failed", std::string("user app did not start: ") + process.status().reason(),
               {{"errno", process.status().detail()}});
    return false;
  }
  process_ = std::move(process.value());
  server_.emplace(process_->channel.get());
  launched_at_ = Clock::now();
  log_.info("user_started",
            std::string("started ") + desc.project_name + " " + desc.version + " from " +
                host::slot_name(AppLevel::kUser, user_->slot) + " (pid " +
                std::to_string(process_->child.pid()) + ", sandboxed)" +
                (on_trial() ? ", on trial: it must confirm within " +
                                  std::to_string(config_.user_app.confirm_timeout_ms) + " ms"
                            : ""),
            {{"pid", process_->child.pid()}, {"slot", user_->slot}, {"trial", on_trial()}});
  return true;
}

bool ProtectedApp::on_trial() const {
  return user_ && user_->outcome == BootOutcome::kTrial && !confirmed_;
}

void ProtectedApp::stop_user_app() {
  if (!process_) return;
  drain(process_->out, out_pending_, "stdout");
  drain(process_->err, err_pending_, "stderr");
  (void)process_->child.kill();
  (void)process_->child.wait(std::chrono::milliseconds(-1));
  server_.reset();
  process_.reset();
}

// Forwards the app's output to the log line by line; a line without its newline waits for the rest.
void ProtectedApp::drain(Fd& pipe, std::string& pending, const char* stream) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(pipe.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
  }
  size_t newline;
  while ((newline = pending.find('\n')) != std::string::npos) {
    log_.emit_as("user", std::strcmp(stream, "stderr") == 0 ? host::LogLevel::kWarn : host::LogLevel::kInfo,
                 "user_output", pending.substr(0, newline), {{"stream", stream}});
    pending.erase(0, newline + 1);
  }
  // Bound what a user app can make the protected app hold: a very long line is passed on in pieces.
  if (pending.size() > 4096) {
    log_.emit_as("user", host::LogLevel::kInfo, "user_output", pending, {{"stream", stream}});
    pending.clear();
  }
}

ProtectedApp::Next ProtectedApp::supervise() {
  pollfd fds[4] = {{process_ ? process_->channel.get() : -1, POLLIN, 0},
                   {process_ ? process_->out.get() : -1, POLLIN, 0},
                   {process_ ? process_->err.get() : -1, POLLIN, 0},
                   {wake_.get(), POLLIN, 0}};
  const int ready = poll(fds, 4, kPollMs);
  if (ready < 0 && errno != EINTR) {
    log_.error("poll_failed", std::strerror(errno));
    return Next::kReboot;
  }
  if (process_) {
    if (fds[0].revents != 0) {
      // Serve everything that is waiting, so a flood of garbage cannot starve the checks below for long.
      for (int i = 0; i < 64 && server_; ++i) {
        const SyscallServer::Outcome outcome = server_->serve_one(*this);
        // The first few in full, then one line per 500: a flood must not flood the log.
        const uint32_t n = server_->malformed();
        if (outcome == SyscallServer::Outcome::kMalformed && (n <= 5 || n % 500 == 0)) {
          log_.warn("malformed_frame",
                    std::string("refused malformed system-call frame #") + std::to_string(n) + ": " +
                        server_->last_refusal(),
                    {{"count", n}, {"reason", server_->last_refusal()}});
        }
        if (outcome == SyscallServer::Outcome::kClosed) break;
        pollfd more{process_->channel.get(), POLLIN, 0};
        if (poll(&more, 1, 0) != 1 || requested_ != Next::kKeepRunning || restart_requested_) break;
      }
    }
    if (fds[1].revents != 0) drain(process_->out, out_pending_, "stdout");
    if (fds[2].revents != 0) drain(process_->err, err_pending_, "stderr");
  }
  if (fds[3].revents != 0) {
    eventfd_t ignored;
    (void)eventfd_read(wake_.get(), &ignored);
  }
  if (requested_ != Next::kKeepRunning) return requested_;
  if (restart_requested_ && process_) {
    restart_requested_ = false;
    log_.info("user_restart", "the user app asked to be restarted");
    stop_user_app();
    return launch() ? Next::kKeepRunning : fail_trial("it could not be restarted");
  }
  if (process_) {
    const Result<host::ExitStatus> exit = process_->child.wait(std::chrono::milliseconds(0));
    if (exit.is_ok() && !exit->running()) {
      const host::ExitStatus status = exit.value();
      malformed_ = server_ ? server_->malformed() : 0;
      stop_user_app();
      return on_user_exit(status);
    }
    if (on_trial() &&
        Clock::now() - launched_at_ > std::chrono::milliseconds(config_.user_app.confirm_timeout_ms)) {
      return fail_trial("it did not call ota_mark_valid within " +
                        std::to_string(config_.user_app.confirm_timeout_ms) + " ms");
    }
  }
  if (ota_->reboot_requested()) {
    if (!reboot_at_) reboot_at_ = Clock::now() + kRebootGrace;
    if (!process_ || Clock::now() >= *reboot_at_) return Next::kReboot;
  }
  if (!process_) return after_user_app();
  return Next::kKeepRunning;
}

ProtectedApp::Next ProtectedApp::on_user_exit(const host::ExitStatus& exit) {
  log_.info("user_exited",
            "user app " + describe(exit) +
                (malformed_ > 0 ? " (" + std::to_string(malformed_) + " malformed frames refused)" : ""),
            {{"code", exit.code},
             {"signal", exit.signal},
             {"crash", is_crash(exit)},
             {"malformed_frames", malformed_}});
  if (on_trial()) return fail_trial("it " + describe(exit) + " before confirming itself");
  if (!is_crash(exit)) return after_user_app();
  ++crashes_;
  if (crashes_ > config_.user_app.crash_loop_limit) {
    log_.error("crash_loop",
               "the user app crashed " + std::to_string(crashes_) + " times this boot: rebooting the device",
               {{"crashes", crashes_}});
    return Next::kReboot;
  }
  log_.warn("user_restart",
            "restarting the crashed user app (" + std::to_string(crashes_) + " of " +
                std::to_string(config_.user_app.crash_loop_limit) + " restarts)",
            {{"crashes", crashes_}});
  return launch() ? Next::kKeepRunning : Next::kReboot;
}

// The user app ended normally: wait for a running job (it may still reboot the device), else halt.
ProtectedApp::Next ProtectedApp::after_user_app() {
  if (ota_->reboot_requested()) return Next::kReboot;
  if (ota_->running()) return Next::kKeepRunning;
  return Next::kHalt;
}

ProtectedApp::Next ProtectedApp::fail_trial(const std::string& why) {
  stop_user_app();
  ota_->stop();
  const Status marked = mark_app_invalid(user_slots_, user_->slot);
  log_.warn("trial_failed",
            std::string("trial of ") + user_->image.info.desc.project_name + " " +
                user_->image.info.desc.version + " failed: " + why + "; marked invalid, rolling back",
            {{"slot", user_->slot}, {"reason", why}, {"marked", marked.is_ok()}});
  return Next::kReboot;
}

// --- system calls
// -------------------------------------------------------------------------------------------

void ProtectedApp::handle(const Frame& request, Frame& response) {
  switch (request.call) {
    case Call::kOtaStart: {
      if (on_trial()) {
        response.status = Code::kBadState;  // its journal would not survive the confirmation write
        break;
      }
      const Result<uint32_t> job =
          ota_->start(AppLevel::kUser, request.string(), user_->slot, &user_->image.info.desc);
      response.status = job.status().code();
      response.values[0] = job.is_ok() ? job.value() : job.status().detail();
      log_.info(
          job.is_ok() ? "ota_accepted" : "ota_refused",
          std::string("ota_start ") + request.string() + ": " +
              (job.is_ok() ? "job " + std::to_string(job.value())
                           : std::string(code_name(job.status().code())) + ": " + job.status().reason()),
          {{"url", request.string()}, {"error", code_name(job.status().code())}});
      break;
    }
    case Call::kOtaStatus:
      ota_status(request, response);
      break;
    case Call::kOtaCancel:
      response.status = ota_->cancel(request.values[0]).code();
      break;
    case Call::kOtaMarkValid:
      mark_valid(response);
      break;
    case Call::kOtaMarkInvalidAndReboot: {
      ota_->stop();
      // With a new image already selected, the reboot alone leaves this app (it boots the new one on
      // trial); marking this slot invalid would instead hand the new image VALID without a trial.
      if (ota_->reboot_requested()) {
        requested_ = Next::kReboot;
        break;
      }
      const Status marked = mark_app_invalid(user_slots_, user_->slot);
      response.status = marked.code();
      log_.warn("user_rejected_itself", "the user app marked itself invalid; rolling back",
                {{"slot", user_->slot}});
      if (marked.is_ok()) requested_ = Next::kReboot;
      break;
    }
    case Call::kAppInfo:
      app_info(request, response);
      break;
    case Call::kLog: {
      static constexpr host::LogLevel kLevels[] = {host::LogLevel::kError, host::LogLevel::kWarn,
                                                   host::LogLevel::kInfo, host::LogLevel::kDebug,
                                                   host::LogLevel::kDebug};
      log_.emit_as("user", kLevels[request.values[0]], "user_log", request.string());
      break;
    }
    case Call::kRestart:
      restart_requested_ = true;
      break;
  }
}

void ProtectedApp::mark_valid(Frame& response) {
  // A job has already selected the new image: writing this app's selection now would undo that (the next
  // boot would run this app again instead of trying the new one). This app is not on trial (ota_start
  // refuses a trial app), so there is nothing to confirm.
  if (ota_->reboot_requested()) {
    confirmed_ = true;
    return;
  }
  const uint32_t secure_version = user_->image.info.desc.secure_version;
  const Result<OtaDataView> view = read_ota_data(user_slots_.select);
  const bool already =
      view.is_ok() && app_is_confirmed(view.value(), user_slots_.slot_count, user_->slot, secure_version);
  // A running job keeps its journal in the active uotadata sector; a selection write would orphan it.
  if (!already && ota_->running()) {
    response.status = Code::kBusy;
    return;
  }
  const Status marked = mark_app_valid(user_slots_, user_->slot, secure_version);
  response.status = marked.code();
  if (marked.is_ok() && !confirmed_ && (user_->outcome == BootOutcome::kTrial || !already)) {
    log_.info("user_confirmed",
              std::string("user app ") + user_->image.info.desc.version + " confirmed itself: marked valid" +
                  ", anti-rollback floor " + std::to_string(secure_version),
              {{"slot", user_->slot}, {"secure_version", secure_version}});
  }
  if (marked.is_ok()) confirmed_ = true;
}

void ProtectedApp::app_info(const Frame& request, Frame& response) {
  const uint32_t slot = request.values[0] == syscall::kRunningSlot ? user_->slot : request.values[0];
  if (slot >= user_slots_.slot_count) {
    response.status = Code::kInvalidArgument;
    return;
  }
  SignedImage image;
  if (slot == user_->slot) {
    image = user_->image;
  } else {
    const Result<SignedImage> other = verify_slot(user_slots_, slot, trust_.policy(AppLevel::kUser));
    if (!other.is_ok()) {
      response.status = Code::kNotFound;  // that slot holds nothing this device would run
      return;
    }
    image = other.value();
  }
  // The state of the entry that selects the slot: the active one, else the older one (a rolled-back or
  // superseded app), else undefined.
  uint32_t state = static_cast<uint32_t>(OtaState::kUndefined);
  const Result<OtaDataView> view = read_ota_data(user_slots_.select);
  if (view.is_ok()) {
    for (int pass = 0; pass < 2; ++pass) {
      const int e = pass == 0 ? view->active : (view->active < 0 ? -1 : 1 - view->active);
      if (e < 0 || !view->entries[e].valid()) continue;
      if (view->entries[e].slot(user_slots_.slot_count) == slot) {
        state = view->entries[e].ota_state;
        break;
      }
    }
  }
  response.values[0] = slot;
  response.values[1] = image.info.desc.secure_version;
  response.values[2] = state;
  response.values[3] = slot == user_->slot ? 1 : 0;
  const std::string text = std::string(image.info.desc.project_name) + " " + image.info.desc.version;
  (void)response.set_string(text.c_str());
}

void ProtectedApp::ota_status(const Frame& request, Frame& response) {
  const Result<JobStatus> status = ota_->status(request.values[0]);
  if (!status.is_ok()) {
    response.status = status.status().code();
    return;
  }
  const JobProgress& p = status->progress;
  response.values[0] = static_cast<uint32_t>(p.state);
  response.values[1] = p.bytes_done;
  response.values[2] = p.bytes_total;
  response.values[3] = static_cast<uint32_t>(p.error.code());
  // The core's reasons are short static texts; one over the SDK's 127 bytes is left out, never cut.
  if (!p.error.is_ok() && std::strlen(p.error.reason()) <= syscall::kReasonMax)
    (void)response.set_string(p.error.reason());
}

}  // namespace privota::protected_app
