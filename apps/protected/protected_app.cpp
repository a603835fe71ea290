#include "protected_app.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "privota/byte_order.h"
#include "privota/host/app_payload.h"
#include "privota/host/device_protocol.h"
#include "privota/host/redacted_url.h"
#include "privota/host/selection_record.h"
#include "privota/host/slot_verdicts.h"
#include "privota/host/slot_verifier.h"
#include "privota/ota_data.h"

namespace privota::protected_app {
namespace {

using nlohmann::json;
using Kind = SupervisorEventKind;

constexpr int kPollMs = 50;
// How long the user app gets to see REBOOTING and end by itself before the device reboots under it.
constexpr uint32_t kRebootGraceMs = 1000;
// Messages served in one round before the loop looks at everything else again: a flood of frames cannot
// starve supervision for long.
constexpr int kFramesPerRound = 64;
// Bytes read from one output pipe in one round: a flood is read at the pace the log can take.
constexpr size_t kOutputPerRound = 16384;
// A line longer than this is passed on in pieces: bounds what a user app can make the protected app hold.
constexpr size_t kMaxLine = 4096;
// After the channel hung up: how long the app may take to end by itself before it counts as hung.
constexpr auto kHangupGrace = std::chrono::milliseconds(200);

std::string describe(const host::ExitStatus& exit) {
  if (exit.kind == host::ExitStatus::Kind::kSignaled) {
    const char* name = sigabbrev_np(exit.signal);
    return std::string("was killed by SIG") + (name != nullptr ? name : std::to_string(exit.signal));
  }
  return "exited with code " + std::to_string(exit.code);
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
      wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      jobs_({&flash_, table_, &config_, &url_policy_, &trust_, &log_, wake_.get(), position_probe}),
      ota_(jobs_, url_policy_),
      supervisor_(SupervisorLimits{config.user_app.confirm_timeout_ms, config.user_app.crash_loop_limit,
                                   kRebootGraceMs, config.user_app.boot_budget, config.fleet.has_value()}) {
  for (const std::string& host : config_.ota.allowed_hosts)
    hosts_.push_back(host.c_str());
  url_policy_.allow_http = config_.ota.allow_http;
  url_policy_.allowed_hosts = {hosts_.data(), hosts_.size()};
  url_policy_.allowed_ports = {config_.ota.allowed_ports.data(), config_.ota.allowed_ports.size()};
  url_policy_.max_length = config_.ota.max_url_length;
}

ProtectedApp::~ProtectedApp() {
  stop_user_app();
}

uint64_t ProtectedApp::now_ms() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_)
          .count());
}

SupervisorAction ProtectedApp::tell(Kind kind, int32_t code) {
  SupervisorEvent event;
  event.kind = kind;
  event.now_ms = now_ms();
  event.code = code;
  return supervisor_.on(event);
}

int ProtectedApp::run() {
  log_.info("protected_started",
            "protected app " + boot_.version + " running from ota_" + std::to_string(boot_.slot),
            {{"slot", boot_.slot}, {"version", boot_.version}, {"secure_version", boot_.secure_version}});
  const bool have_user_app = select_user_app();
  // The factory case: no user app was ever installed, so there is nothing more this protected app can
  // prove by running one; it confirms itself now (else it confirms once it started a user app).
  if (!have_user_app && !user_app_installed()) confirm_self();
  open_fleet();
  start_jobs();
  if (fleet_) fleet_->start();
  SupervisorEvent booted;
  booted.kind = Kind::kBooted;
  booted.now_ms = now_ms();
  booted.no_user_app = !have_user_app;
  if (have_user_app) {
    const Result<OtaDataView> selection = read_ota_data(user_slots_.select);
    booted.failed_boots = selection.is_ok() ? selection->failed_boots() : 0;
    booted.protected_trial = !self_confirmed_ && on_trial();
    booted.slot = user_->slot;
    booted.trial = user_->outcome == BootOutcome::kTrial;
    syscalls_.emplace(RunningUserApp{&user_slots_, user_->slot, user_->image.info.desc}, supervisor_, ota_,
                      *this);
    if (fleet_) syscalls_->set_fleet_offer(&fleet_offer_);
  }
  Step step = carry_out(supervisor_.on(booted));
  while (step == Step::kContinue)
    step = wait_and_react();
  stop_user_app();
  ota_.suspend();  // a job still running continues from its journal at the next boot
  jobs_.join();
  switch (step) {
    case Step::kReboot:
      log_.info("reboot", "rebooting");
      return host::kExitReboot;
    case Step::kHaltNoUserApp:
      return host::kExitNoBootableUserApp;
    default:
      log_.info("halt", "nothing left to do: the device halts");
      return host::kExitHalt;
  }
}

// A protected app on trial that got this far (it read the flash, verified and started a user app) is good:
// it confirms itself, which also raises otadata's anti-rollback floor to its secure_version. One that cannot
// select, verify or start the user app never confirms: the next boot rolls it back.
void ProtectedApp::confirm_self() {
  if (self_confirmed_) return;
  self_confirmed_ = true;
  if (!on_trial()) return;
  Result<AppSlots> slots = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (!slots.is_ok()) return;
  const Status marked = mark_app_valid(slots.value(), boot_.slot, boot_.secure_version);
  if (marked.is_ok()) {
    if (fleet_) fleet_->confirmed();
    log_.info("protected_confirmed", "protected app " + boot_.version + " passed its trial: marked valid",
              {{"slot", boot_.slot}, {"secure_version", boot_.secure_version}});
  } else {
    log_.error("protected_confirm_failed",
               std::string("could not mark the protected app valid: ") + marked.reason());
  }
}

// Whether this protected app runs on trial (otadata PENDING_VERIFY): a new image not confirmed yet.
bool ProtectedApp::on_trial() {
  Result<AppSlots> slots = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (!slots.is_ok()) return false;
  const Result<OtaDataView> view = read_ota_data(slots->select);
  return view.is_ok() && view->active_state() == OtaState::kPendingVerify;
}

// Whether any user slot holds something that starts like an app image (erased flash reads 0xFF): a slot
// with a broken image is an installed app that failed, not a factory-fresh device.
bool ProtectedApp::user_app_installed() {
  Result<AppSlots> slots = AppSlots::from_table(flash_, table_, AppLevel::kUser);
  if (!slots.is_ok()) return false;
  for (uint32_t i = 0; i < slots->slot_count; ++i) {
    uint8_t first = 0xFF;
    if (!slots->slots[i].read(0, {&first, 1}).is_ok() || first != 0xFF) return true;
  }
  return false;
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
    // Per slot, what it holds and why it was refused: "no user app" is never said alone.
    const host::NoBootRecord record =
        host::no_boot_record(AppLevel::kUser, user_slots_, trust_.policy(AppLevel::kUser), decision.status());
    for (const host::NoBootRecord::Line& slot : record.slots)
      log_.error("slot_refused", slot.message, slot.fields);
    log_.error("no_bootable_user_app", record.message, record.fields);
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
void ProtectedApp::start_jobs() {
  Result<AppSlots> own = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  Result<uint32_t> resumed = Status::error(Code::kNotFound, "no journal");
  // A fleet job interrupted by the reboot continues with the image expectation it began with.
  const ImageExpectation* expect = fleet_ ? fleet_->expectation(AppLevel::kProtected) : nullptr;
  if (own.is_ok()) resumed = ota_.resume(own.value(), AppLevel::kProtected, boot_.slot, nullptr, expect);
  if (!resumed.is_ok() && resumed.status().code() == Code::kNotFound && user_) {
    expect = fleet_ ? fleet_->expectation(AppLevel::kUser) : nullptr;
    resumed = ota_.resume(user_slots_, AppLevel::kUser, user_->slot, &user_->image.info.desc, expect);
  }
  if (!resumed.is_ok() && resumed.status().code() != Code::kNotFound) {
    log_.warn("ota_resume_refused",
              std::string("the interrupted OTA job cannot continue: ") + resumed.status().reason());
  }
  if (resumed.is_ok()) (void)tell(Kind::kJobStarted);
  if (resumed.is_ok() && expect != nullptr) fleet_->adopt(resumed.value());
  if (config_.protected_update_url.empty()) return;
  if (ota_.running()) {
    log_.warn("ota_refused", "protected-app update not started: an interrupted job is continuing",
              {{"app_level", "protected"}, {"error", code_name(Code::kBusy)}});
    return;
  }
  // An update must be newer than this protected app, whose descriptor its own slot holds.
  const std::optional<AppDescriptor> self = own_descriptor();
  const std::string& url = config_.protected_update_url;
  const Result<uint32_t> started =
      ota_.start(AppLevel::kProtected, {url.data(), url.size()}, boot_.slot, self ? &*self : nullptr);
  if (started.is_ok()) {
    (void)tell(Kind::kJobStarted);
    return;
  }
  log_.warn("ota_refused",
            std::string("protected-app update refused: ") + code_name(started.status().code()) + ": " +
                started.status().reason(),
            {{"app_level", "protected"}, {"error", code_name(started.status().code())}});
}

std::optional<AppDescriptor> ProtectedApp::own_descriptor() {
  Result<AppSlots> own = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (!own.is_ok()) return std::nullopt;
  const Result<SignedImage> verified =
      verify_slot(own.value(), boot_.slot, trust_.policy(AppLevel::kProtected));
  if (!verified.is_ok()) return std::nullopt;
  return verified->info.desc;
}

// In a fleet: the agent, its record in the `fleet` partition, and what it needs to know of this boot. A
// device whose table has no such partition cannot promise exactly-once outcomes: it stays out of the fleet
// and says why.
void ProtectedApp::open_fleet() {
  if (!config_.fleet) return;
  std::string why;
  std::optional<host::FlashFleetJobStore> store = host::FlashFleetJobStore::open(flash_, table_, why);
  if (!store) {
    log_.error("fleet_unavailable", "not joining the fleet: " + why);
    return;
  }
  FleetLink::Setup setup;
  setup.ota = &ota_;
  setup.offer = &fleet_offer_;
  setup.log = &log_;
  setup.job_started = [this] { (void)tell(Kind::kJobStarted); };
  Result<AppSlots> own = AppSlots::from_table(flash_, table_, AppLevel::kProtected);
  if (own.is_ok()) {
    own_slots_ = own.value();
    setup.protected_app.slots = &own_slots_;
  }
  setup.protected_app.present = true;
  setup.protected_app.slot = boot_.slot;
  if (const std::optional<AppDescriptor> self = own_descriptor()) setup.protected_app.desc = *self;
  std::strncpy(setup.protected_app.desc.version, boot_.version.c_str(),
               sizeof setup.protected_app.desc.version - 1);
  setup.protected_app.desc.secure_version = boot_.secure_version;
  if (user_slots_.slot_count > 0) setup.user_app.slots = &user_slots_;
  if (user_) {
    setup.user_app.present = true;
    setup.user_app.slot = user_->slot;
    setup.user_app.desc = user_->image.info.desc;
  }
  fleet_ = std::make_unique<FleetLink>(*config_.fleet, std::move(*store), std::move(setup));
  log_.info("fleet_joined",
            "fleet agent for " + config_.fleet->device_id + ", broker " + config_.fleet->broker.host + ":" +
                std::to_string(config_.fleet->broker.port),
            {{"device_id", config_.fleet->device_id}});
}

// --- carrying out the supervisor's actions

ProtectedApp::Step ProtectedApp::carry_out(SupervisorAction action) {
  for (;;) {
    switch (action.kind) {
      case SupervisorActionKind::kNone:
        return Step::kContinue;
      case SupervisorActionKind::kLaunch:
        if (action.reason == SupervisorReason::kWatchdog) {
          log_.warn("user_watchdog",
                    "the user app missed its watchdog feed: restarting it (" + std::to_string(action.count) +
                        " of " + std::to_string(action.limit) + " restarts)",
                    {{"crashes", action.count}});
          stop_user_app();  // it is still running, hung
        }
        if (action.reason == SupervisorReason::kCrashRestart) {
          log_.warn("user_restart",
                    "restarting the crashed user app (" + std::to_string(action.count) + " of " +
                        std::to_string(action.limit) + " restarts)",
                    {{"crashes", action.count}});
        }
        action = launch();
        break;
      case SupervisorActionKind::kRestart:
        log_.info("user_restart",
                  "the user app asked to be restarted (" + std::to_string(action.count) + " of " +
                      std::to_string(action.limit) + " restarts)",
                  {{"crashes", action.count}, {"asked", true}});
        stop_user_app();
        action = launch();
        break;
      case SupervisorActionKind::kMarkInvalidAndReboot:
        return mark_invalid_and_reboot(action);
      case SupervisorActionKind::kReboot:
        if (action.reason == SupervisorReason::kCrashLoop) {
          log_.error("crash_loop",
                     "the user app failed " + std::to_string(action.count + 1) +
                         " times this boot: rebooting the device",
                     {{"crashes", action.count + 1}});
        }
        record_failed_boot(action);
        return Step::kReboot;
      case SupervisorActionKind::kSafeState:
        log_.error("safe_state",
                   "the user app caused " + std::to_string(action.count) + " reboots in a row (boot budget " +
                       std::to_string(action.limit) +
                       "): it is not started; the protected app serves, an owner's update still works",
                   {{"reason", supervisor_reason_name(action.reason)},
                    {"failed_boots", action.count},
                    {"boot_budget", action.limit},
                    {"last_failure", boot_failure_name(last_failure())}});
        if (supervisor_.finished()) return Step::kHalt;
        return Step::kContinue;
      case SupervisorActionKind::kHalt:
        return action.reason == SupervisorReason::kNoUserApp ? Step::kHaltNoUserApp : Step::kHalt;
    }
  }
}

SupervisorAction ProtectedApp::launch() {
  const AppDescriptor& desc = user_->image.info.desc;
  Result<UserAppProcess> process = launch_user_app(executable_, config_.user_app, desc.project_name);
  if (!process.is_ok()) {
    log_.error("user_launch_failed", std::string("user app did not start: ") + process.status().reason(),
               {{"errno", process.status().detail()}});
    last_end_ = "it could not be started";
    return tell(Kind::kLaunchFailed);
  }
  process_ = std::move(process.value());
  channel_.emplace(process_->channel.get());
  confirm_self();
  out_open_ = err_open_ = true;
  const SupervisorAction action = tell(Kind::kUserStarted);
  const bool trial = supervisor_.on_trial();
  log_.info("user_started",
            std::string("started ") + desc.project_name + " " + desc.version + " from " +
                host::slot_name(AppLevel::kUser, user_->slot) + " (pid " +
                std::to_string(process_->child.pid()) + ", sandboxed)" +
                (trial ? ", on trial: it must confirm within " +
                             std::to_string(config_.user_app.confirm_timeout_ms) + " ms"
                       : ""),
            {{"pid", process_->child.pid()}, {"slot", user_->slot}, {"trial", trial}});
  return action;
}

ProtectedApp::Step ProtectedApp::mark_invalid_and_reboot(const SupervisorAction& action) {
  stop_user_app();
  // The selection write must not race a job of the same level: the user level's job is cancelled (its
  // journal closed), the owner's job only suspended (it resumes after the reboot).
  ota_.cancel_level(AppLevel::kUser);
  ota_.suspend();
  jobs_.join();
  const Status marked = mark_app_invalid(user_slots_, action.slot);
  record_failed_boot(action);
  if (fleet_) {
    fleet_->trial_failed(action.reason == SupervisorReason::kAppGaveUp ? "it marked itself invalid"
                         : action.reason == SupervisorReason::kTrialTimeout
                             ? "it did not confirm itself in time"
                             : last_end_);
  }
  if (action.reason == SupervisorReason::kAppGaveUp) {
    log_.warn("user_rejected_itself", "the user app marked itself invalid; rolling back",
              {{"slot", action.slot}, {"marked", marked.is_ok()}});
    return Step::kReboot;
  }
  std::string why = last_end_;
  if (action.reason == SupervisorReason::kTrialWatchdog) why = "it armed its watchdog and missed a feed";
  if (action.reason == SupervisorReason::kTrialTimeout) {
    why = "it did not call ota_mark_valid within " + std::to_string(config_.user_app.confirm_timeout_ms) +
          " ms";
  }
  log_.warn("trial_failed",
            std::string("trial of ") + user_->image.info.desc.project_name + " " +
                user_->image.info.desc.version + " failed: " + why + "; marked invalid, rolling back",
            {{"slot", action.slot},
             {"reason", why},
             {"why", supervisor_reason_name(action.reason)},
             {"marked", marked.is_ok()}});
  return Step::kReboot;
}

// A reboot the user app caused counts toward the boot budget; it is recorded before the reboot, in the
// uotadata marks, so a power cut from here on still counts it.
void ProtectedApp::record_failed_boot(const SupervisorAction& action) {
  if (action.failure == BootFailure::kNone || user_slots_.slot_count == 0) return;
  const Status recorded =
      add_failed_boot(user_slots_.select, user_slots_.slot_count, action.slot, action.failure);
  if (!recorded.is_ok()) {
    log_.error("failed_boot_not_recorded",
               std::string("could not count the failed boot: ") + recorded.reason());
  }
}

BootFailure ProtectedApp::last_failure() {
  const Result<OtaDataView> selection = read_ota_data(user_slots_.select);
  return selection.is_ok() ? selection->last_failure() : BootFailure::kUnknown;
}

// --- waiting for what happens next

ProtectedApp::Step ProtectedApp::wait_and_react() {
  const bool app = process_.has_value();
  pollfd fds[4] = {{app && channel_ ? process_->channel.get() : -1, POLLIN, 0},
                   {app && out_open_ ? process_->out.get() : -1, POLLIN, 0},
                   {app && err_open_ ? process_->err.get() : -1, POLLIN, 0},
                   {wake_.get(), POLLIN, 0}};
  const int ready = poll(fds, 4, kPollMs);
  if (ready < 0 && errno != EINTR) {
    log_.error("poll_failed", std::strerror(errno));
    return Step::kReboot;
  }
  Step step = Step::kContinue;
  if (app && fds[0].revents != 0) step = serve_channel();
  if (step != Step::kContinue) return step;
  if (process_ && fds[1].revents != 0) drain(process_->out, out_open_, out_pending_, out_budget_, "stdout");
  if (process_ && fds[2].revents != 0) drain(process_->err, err_open_, err_pending_, err_budget_, "stderr");
  if (fds[3].revents != 0) {
    eventfd_t ignored;
    (void)eventfd_read(wake_.get(), &ignored);
    if (std::optional<JobEnd> end = jobs_.take_end()) {
      const Kind ended = ota_.on_job_finished(end->outcome, end->last);
      // The fleet records the activation before the reboot that follows.
      if (fleet_) fleet_->job_ended(ota_.job(), ended == Kind::kJobActivated);
      step = carry_out(tell(ended));
      if (step != Step::kContinue) return step;
    }
  }
  if (fleet_) fleet_->poll();
  if (process_) {
    const Result<host::ExitStatus> exit = process_->child.wait(std::chrono::milliseconds(0));
    if (exit.is_ok() && !exit->running()) return on_user_ended(exit.value());
  }
  return carry_out(tell(Kind::kTick));
}

ProtectedApp::Step ProtectedApp::serve_channel() {
  for (int i = 0; i < kFramesPerRound && process_ && channel_; ++i) {
    uint8_t message[syscall::kFrameSize + 1];
    size_t size = 0;
    const SyscallChannel::Receive received = channel_->receive(message, size);
    if (received == SyscallChannel::Receive::kNothing) break;
    if (received == SyscallChannel::Receive::kClosed) return on_channel_closed();
    uint8_t answer[syscall::kFrameSize];
    const SyscallOutcome outcome = syscalls_->serve({message, size}, answer, now_ms());
    (void)channel_->send(answer);
    log_notice(outcome, {message, size}, answer);
    const Step step = carry_out(outcome.action);
    if (step != Step::kContinue || outcome.action.kind != SupervisorActionKind::kNone) return step;
  }
  return Step::kContinue;
}

// The channel is how a user app is supervised: once it hung up, the app has ended — by itself (then its
// exit is what counts) or, if it lingers, as an app that can no longer be served.
ProtectedApp::Step ProtectedApp::on_channel_closed() {
  channel_.reset();
  const Result<host::ExitStatus> exit = process_->child.wait(kHangupGrace);
  if (exit.is_ok() && !exit->running()) return on_user_ended(exit.value());
  log_.warn("user_hung_up", "the user app closed its channel but kept running: stopping it");
  stop_user_app();
  last_end_ = "it closed its system-call channel";
  return carry_out(tell(Kind::kCrashed, SIGKILL));
}

ProtectedApp::Step ProtectedApp::on_user_ended(const host::ExitStatus& exit) {
  const uint32_t malformed = syscalls_ ? syscalls_->malformed() : 0;
  stop_user_app();
  const bool crash = !exit.exited(0);
  log_.info(
      "user_exited",
      "user app " + describe(exit) +
          (malformed > 0 ? " (" + std::to_string(malformed) + " malformed frames refused)" : ""),
      {{"code", exit.code}, {"signal", exit.signal}, {"crash", crash}, {"malformed_frames", malformed}});
  last_end_ = "it " + describe(exit) + " before confirming itself";
  if (exit.kind == host::ExitStatus::Kind::kSignaled) return carry_out(tell(Kind::kCrashed, exit.signal));
  return carry_out(tell(Kind::kExited, exit.code));
}

void ProtectedApp::stop_user_app() {
  if (!process_) return;
  drain(process_->out, out_open_, out_pending_, out_budget_, "stdout");
  drain(process_->err, err_open_, err_pending_, err_budget_, "stderr");
  report_dropped(out_budget_, "stdout");
  report_dropped(err_budget_, "stderr");
  if (syscalls_) report_dropped(syscalls_->log_budget(), "log");
  (void)process_->child.kill();
  (void)process_->child.wait(std::chrono::milliseconds(-1));
  channel_.reset();
  process_.reset();
}

// Forwards the app's output to the log line by line, within the stream's LogBudget; a line without its
// newline waits for the rest. A stream that reached its end is no longer polled (a closed one would report
// itself on every round).
void ProtectedApp::drain(Fd& pipe, bool& open, std::string& pending, LogBudget& budget, const char* stream) {
  char buffer[4096];
  size_t taken = 0;
  while (open && taken < kOutputPerRound) {
    const ssize_t n = read(pipe.get(), buffer, sizeof buffer);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) open = false;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    taken += static_cast<size_t>(n);
  }
  size_t newline;
  while ((newline = pending.find('\n')) != std::string::npos) {
    emit_output(pending.substr(0, newline), budget, stream);
    pending.erase(0, newline + 1);
  }
  if (pending.size() > kMaxLine || (!open && !pending.empty())) {
    emit_output(pending, budget, stream);
    pending.clear();
  }
}

void ProtectedApp::emit_output(const std::string& line, LogBudget& budget, const char* stream) {
  if (!budget.take(line.size(), now_ms())) return;
  report_dropped(budget, stream);
  const host::LogLevel level =
      std::strcmp(stream, "stderr") == 0 ? host::LogLevel::kWarn : host::LogLevel::kInfo;
  log_.emit_as("user", level, "user_output", line, {{"stream", stream}});
}

void ProtectedApp::report_dropped(LogBudget& budget, const char* source) {
  if (!budget.dropping()) return;
  const LogBudget::Dropped dropped = budget.take_dropped();
  user_log_dropped(source, dropped.lines, dropped.bytes);
}

// --- the platform's half of the system calls

Result<AppDescriptor> ProtectedApp::verify_user_slot(uint32_t slot) {
  const Result<SignedImage> image = verify_slot(user_slots_, slot, trust_.policy(AppLevel::kUser));
  if (!image.is_ok()) return image.status();
  return image->info.desc;
}

void ProtectedApp::user_log(uint32_t level, const char* text) {
  static constexpr host::LogLevel kLevels[] = {host::LogLevel::kError, host::LogLevel::kWarn,
                                               host::LogLevel::kInfo, host::LogLevel::kDebug,
                                               host::LogLevel::kDebug};
  log_.emit_as("user", kLevels[level <= syscall::kMaxLogLevel ? level : syscall::kMaxLogLevel], "user_log",
               text);
}

void ProtectedApp::user_log_dropped(const char* source, uint32_t lines, uint64_t bytes) {
  log_.warn("user_log_dropped",
            "the user app's " + std::string(source) + " went over its log budget: " + std::to_string(lines) +
                " lines (" + std::to_string(bytes) + " bytes) dropped",
            {{"source", source}, {"lines", lines}, {"bytes", bytes}});
}

void ProtectedApp::log_notice(const SyscallOutcome& outcome, ConstByteSpan message, const uint8_t* answer) {
  switch (outcome.notice) {
    case SyscallNotice::kNone:
    case SyscallNotice::kGaveUp:  // logged when the supervisor's action is carried out
      return;
    case SyscallNotice::kMalformed: {
      // The first few in full, then one line per 500: a flood must not flood the log.
      const uint32_t n = syscalls_->malformed();
      if (n <= 5 || n % 500 == 0) {
        log_.warn("malformed_frame",
                  std::string("refused malformed system-call frame #") + std::to_string(n) + ": " +
                      outcome.status.reason(),
                  {{"count", n}, {"reason", outcome.status.reason()}});
      }
      return;
    }
    case SyscallNotice::kOtaAccepted:
    case SyscallNotice::kOtaRefused: {
      const bool ok = outcome.notice == SyscallNotice::kOtaAccepted;
      const uint32_t id = load_le32(answer + 12);  // values[0] of the answer: the job id
      const syscall::Frame request = syscall::decode(message, /*expect_response=*/false).value();
      const std::string url = host::redacted_url(request.string());  // a refused URL may carry a password
      log_.info(ok ? "ota_accepted" : "ota_refused",
                "ota_start " + url + ": " +
                    (ok ? "job " + std::to_string(id)
                        : std::string(code_name(outcome.status.code())) + ": " + outcome.status.reason()),
                {{"url", url}, {"error", code_name(outcome.status.code())}});
      return;
    }
    case SyscallNotice::kConfirmed: {
      if (fleet_) fleet_->confirmed();
      const uint32_t secure_version = user_->image.info.desc.secure_version;
      log_.info("user_confirmed",
                std::string("user app ") + user_->image.info.desc.version +
                    " confirmed itself: marked valid, anti-rollback floor " + std::to_string(secure_version),
                {{"slot", user_->slot}, {"secure_version", secure_version}});
      return;
    }
  }
}

}  // namespace privota::protected_app
