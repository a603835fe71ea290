#include "job_thread.h"

#include <sys/eventfd.h>

#include <memory>
#include <vector>

#include "privota/chip.h"
#include "privota/host/chip_rom_verifier.h"
#include "privota/host/curl_transport.h"
#include "privota/host/redacted_url.h"
#include "privota/host/slot_verifier.h"
#include "privota/host/system_clock.h"
#include "privota/ota_data.h"

namespace privota::protected_app {

// Publishes the job's progress and its log lines; answers the stop questions.
class JobThread::Observer final : public JobObserver {
 public:
  Observer(JobThread& thread, uint32_t id) : thread_(thread), id_(id) {}

  void on_progress(const JobProgress& progress) override {
    thread_.publish(progress);
    // Where in the image the bytes received so far reach (this transfer's start plus what it received).
    if (progress.state == JobState::kConnecting) {
      transfer_start_ = progress.resumed_from;
      received_before_ = progress.bytes_received;
    }
    if (thread_.s_.position_probe != nullptr)
      thread_.s_.position_probe->store(transfer_start_ + (progress.bytes_received - received_before_));
    // Progress lines at state changes and every quarter, not every chunk: the log is for people.
    const uint32_t quarter = progress.bytes_total == 0 ? 0 : progress.bytes_done * 4 / progress.bytes_total;
    if (progress.state != last_state_ || quarter != last_quarter_) {
      thread_.s_.log->info("ota_progress",
                           std::string("job ") + std::to_string(id_) + ": " + job_state_name(progress.state) +
                               " " + std::to_string(progress.bytes_done) + "/" +
                               std::to_string(progress.bytes_total),
                           {{"job", id_},
                            {"state", job_state_name(progress.state)},
                            {"done", progress.bytes_done},
                            {"total", progress.bytes_total},
                            {"attempt", progress.attempts},
                            {"resumed_from", progress.resumed_from},
                            {"received", progress.bytes_received}});
    }
    last_state_ = progress.state;
    last_quarter_ = quarter;
  }
  bool cancel_requested() override { return thread_.cancel_.load(); }
  bool keep_journal_on_cancel() override { return !thread_.close_journal_.load(); }

 private:
  JobThread& thread_;
  uint32_t id_;
  JobState last_state_ = JobState::kQueued;
  uint32_t last_quarter_ = 0;
  uint32_t transfer_start_ = 0;   // resumed_from of the current transfer
  uint32_t received_before_ = 0;  // bytes_received when it began
};

JobThread::~JobThread() {
  stop(/*keep_journal=*/true);
  join();
}

Status JobThread::start(const JobRequest& request) {
  join();  // the last job's thread has ended (the service starts one job at a time)
  cancel_ = false;
  close_journal_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    progress_ = JobProgress{};
    end_.reset();
  }
  thread_ = std::thread([this, request] { run(request); });
  return Status::ok();
}

void JobThread::stop(bool keep_journal) {
  // Closing wins: once the owner cancelled, a reboot that follows does not bring the job back.
  if (!keep_journal) close_journal_ = true;
  cancel_ = true;
}

void JobThread::join() {
  if (thread_.joinable()) thread_.join();
}

JobProgress JobThread::progress() {
  std::lock_guard<std::mutex> lock(mutex_);
  return progress_;
}

std::optional<JobEnd> JobThread::take_end() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<JobEnd> end = std::move(end_);
  end_.reset();
  return end;
}

void JobThread::publish(const JobProgress& progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  progress_ = progress;
}

void JobThread::run(JobRequest r) {
  const char* level = app_level_name(r.level);
  host::SlotVerifier verifier;
  host::SystemClock clock;
  const host::OtaConfig& ota = s_.config->ota;
  host::CurlTransport transport({ota.tls_ca_pem, ota.connect_timeout_ms, ota.stall_timeout_ms, 16384});
  Observer observer(*this, r.id);
  Status outcome;
  // The job keeps its slot table, writer and journal in place (no heap in the core); a few KiB, so it lives
  // on this thread's heap rather than its stack.
  Result<AppSlots> slots = AppSlots::from_table(*s_.flash, s_.table, r.level);
  std::unique_ptr<OtaJob> job;
  AppDescriptor refused;  // the image this level will not install again (set_job_request)
  if (!slots.is_ok()) {
    outcome = slots.status();
  } else {
    OtaJobContext c;
    c.policy = s_.trust->policy(r.level);
    set_job_request(c, r, slots.value(), refused);
    c.url_policy = s_.url_policy;
    c.sha256 = &verifier.sha256();
    // A protected-app image is checked as the bootloader will check it: by the chip's Secure Boot v2 rules.
    const ChipInfo* rom = r.level == AppLevel::kProtected
                              ? chip_by_id(static_cast<uint16_t>(c.policy.limits.expected_chip))
                              : nullptr;
    host::ChipRomVerifier chip_verifier(verifier.verifier(), rom);
    c.verifier = &chip_verifier;
    c.transport = &transport;
    c.clock = &clock;
    c.observer = &observer;
    c.buffer = verifier.scratch();
    c.config.max_attempts = ota.max_attempts;
    c.config.first_backoff_ms = ota.first_backoff_ms;
    c.config.max_redirects = ota.max_redirects;
    c.config.low_speed_bytes = ota.low_speed_bytes;
    c.config.low_speed_window_ms = ota.low_speed_window_ms;
    c.config.job_deadline_ms = ota.job_deadline_ms;
    job = std::make_unique<OtaJob>(c);
    const bool resumed = r.url[0] == '\0';
    outcome = resumed ? job->resume_from_journal() : job->start({r.url, std::strlen(r.url)});
    if (outcome.is_ok()) {
      const std::string url = host::redacted_url(job->url());
      s_.log->info("ota_started",
                   std::string(level) + " OTA job " + std::to_string(r.id) +
                       (resumed ? " resumed from the journal: " : ": ") + url,
                   {{"job", r.id}, {"app_level", level}, {"url", url}, {"resumed", resumed}});
      outcome = job->run();
    }
  }
  JobProgress last = job ? job->progress() : JobProgress{};
  if (outcome.is_ok()) {
    s_.log->info(
        "ota_done",
        std::string("job ") + std::to_string(r.id) + ": new " + level + " app selected; rebooting into it",
        {{"job", r.id},
         {"app_level", level},
         {"state", job_state_name(last.state)},
         {"total", last.bytes_total},
         {"received", last.bytes_received},
         {"attempts", last.attempts}});
  } else {
    const JobState state = last.state == JobState::kCancelled || outcome.code() == Code::kCancelled
                               ? JobState::kCancelled
                               : JobState::kFailed;
    s_.log->warn("ota_failed",
                 std::string("job ") + std::to_string(r.id) + " " + job_state_name(state) + ": " +
                     code_name(outcome.code()) + ": " + outcome.reason(),
                 {{"job", r.id},
                  {"app_level", level},
                  {"state", job_state_name(state)},
                  {"error", code_name(outcome.code())},
                  {"reason", outcome.reason()},
                  {"detail", outcome.detail()},
                  {"done", last.bytes_done},
                  {"attempts", last.attempts},
                  {"journal_kept", outcome.code() == Code::kCancelled && !close_journal_.load()}});
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    progress_ = last;
    end_ = JobEnd{outcome, last};
  }
  if (s_.wake_fd >= 0) eventfd_write(s_.wake_fd, 1);
}

}  // namespace privota::protected_app
