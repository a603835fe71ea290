#include "ota_service.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "privota/host/curl_transport.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/system_clock.h"
#include "privota/ota_data.h"

namespace privota::protected_app {

using nlohmann::json;

const char* level_name(AppLevel level) {
  return level == AppLevel::kUser ? "user" : "protected";
}

// The image this level rolled back, if the passive slot still holds it (OtaDataView::rolled_back_slot).
std::optional<AppDescriptor> rejected_image(AppSlots& slots, uint32_t running_slot, TrustPolicy policy) {
  const Result<OtaDataView> view = read_ota_data(slots.select);
  if (!view.is_ok()) return std::nullopt;
  const int slot = view->rolled_back_slot(slots.slot_count, running_slot);
  if (slot < 0) return std::nullopt;
  const Result<SignedImage> image = verify_slot(slots, static_cast<uint32_t>(slot), policy);
  if (!image.is_ok()) return std::nullopt;
  return image->info.desc;
}

// Publishes the job's progress for ota_status and the log; answers the cancel question.
class OtaService::Observer final : public JobObserver {
 public:
  Observer(OtaService& service, uint32_t id) : service_(service), id_(id) {}

  void on_progress(const JobProgress& progress) override {
    {
      std::lock_guard<std::mutex> lock(service_.mutex_);
      service_.status_.progress = progress;
    }
    // Where in the image the bytes received so far reach (this transfer's start plus what it received).
    if (progress.state == JobState::kConnecting) {
      transfer_start_ = progress.resumed_from;
      received_before_ = progress.bytes_received;
    }
    if (service_.s_.position_probe != nullptr)
      service_.s_.position_probe->store(transfer_start_ + (progress.bytes_received - received_before_));
    const bool state_changed = progress.state != last_.state;
    // Progress lines at state changes and every quarter, not every chunk: the log is for people.
    const uint32_t quarter = progress.bytes_total == 0 ? 0 : progress.bytes_done * 4 / progress.bytes_total;
    if (state_changed || quarter != last_quarter_) {
      service_.s_.log->info("ota_progress",
                            std::string("job ") + std::to_string(id_) + ": " +
                                job_state_name(progress.state) + " " + std::to_string(progress.bytes_done) +
                                "/" + std::to_string(progress.bytes_total),
                            {{"job", id_},
                             {"state", job_state_name(progress.state)},
                             {"done", progress.bytes_done},
                             {"total", progress.bytes_total},
                             {"attempt", progress.attempts},
                             {"resumed_from", progress.resumed_from},
                             {"received", progress.bytes_received}});
    }
    last_ = progress;
    last_quarter_ = quarter;
  }
  bool cancel_requested() override { return service_.cancel_.load(); }

 private:
  OtaService& service_;
  uint32_t id_;
  JobProgress last_;
  uint32_t last_quarter_ = 0;
  uint32_t transfer_start_ = 0;   // resumed_from of the current transfer
  uint32_t received_before_ = 0;  // bytes_received when it began
};

OtaService::OtaService(Setup setup) : s_(std::move(setup)) {
  const host::OtaConfig& ota = s_.config->ota;
  for (const std::string& host : ota.allowed_hosts)
    hosts_.push_back(host.c_str());
  url_policy_.allow_http = ota.allow_http;
  url_policy_.allowed_hosts = {hosts_.data(), hosts_.size()};
  url_policy_.allowed_ports = {ota.allowed_ports.data(), ota.allowed_ports.size()};
  url_policy_.max_length = ota.max_url_length;
}

OtaService::~OtaService() {
  stop();
}

void OtaService::stop() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

bool OtaService::running() {
  std::lock_guard<std::mutex> lock(mutex_);
  return have_job_ && !status_.finished;
}

Status OtaService::check_policy(const std::string& url) const {
  return check_url({url.data(), url.size()}, url_policy_).status();
}

Result<uint32_t> OtaService::start(AppLevel level, const std::string& url, uint32_t running_slot,
                                   const AppDescriptor* running) {
  const Status allowed = check_policy(url);
  if (!allowed.is_ok()) return allowed;
  Request request{level, url, running_slot, std::nullopt};
  if (running != nullptr) request.running = *running;
  return launch(std::move(request));
}

Result<uint32_t> OtaService::resume(AppLevel level, uint32_t running_slot, const AppDescriptor* running) {
  Result<AppSlots> slots = AppSlots::from_table(*s_.flash, s_.table, level);
  if (!slots.is_ok()) return slots.status();
  Result<JournalRecord> record = read_live_journal(slots.value());
  if (!record.is_ok()) return record.status();
  // The policy may have changed since the job began (a new protected app): judge the URL again.
  const Status allowed = check_policy(record->url);
  if (!allowed.is_ok()) return allowed;
  Request request{level, "", running_slot, std::nullopt};
  if (running != nullptr) request.running = *running;
  return launch(std::move(request));
}

Result<uint32_t> OtaService::launch(Request request) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (have_job_ && !status_.finished)
    return Status::error(Code::kBusy, "another OTA job is running", status_.id);
  // The last job selected its image: the device reboots into it; another download now would be wasted.
  if (reboot_)
    return Status::error(Code::kBusy, "an update is installed and the device is rebooting", status_.id);
  if (thread_.joinable()) thread_.join();  // the last job's thread has ended
  const uint32_t id = next_id_++;
  status_ = JobStatus{};
  status_.id = id;
  status_.level = request.level;
  have_job_ = true;
  cancel_ = false;
  thread_ = std::thread([this, request = std::move(request), id] { run(request, id); });
  return id;
}

void OtaService::run(Request r, uint32_t id) {
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  host::SystemClock clock;
  host::CurlTransport transport(
      {s_.config->ota.tls_ca_pem, s_.config->ota.connect_timeout_ms, s_.config->ota.stall_timeout_ms, 16384});
  std::vector<uint8_t> buffer(kSignatureSectorSize);
  Observer observer(*this, id);
  Status outcome;
  // The job keeps its slot table, writer and journal in place (no heap in the core); a few KiB, so it
  // lives on this thread's heap rather than its stack.
  Result<AppSlots> slots = AppSlots::from_table(*s_.flash, s_.table, r.level);
  std::unique_ptr<OtaJob> job;
  std::optional<AppDescriptor> rejected;
  if (!slots.is_ok()) {
    outcome = slots.status();
  } else {
    OtaJobContext c;
    c.slots = &slots.value();
    c.running_slot = r.running_slot;
    c.running = r.running ? &*r.running : nullptr;
    c.policy = s_.trust->policy(r.level);
    const Result<OtaDataView> view = read_ota_data(slots->select);
    c.policy.min_secure_version = view.is_ok() ? view->secure_version_floor() : 0;
    rejected = rejected_image(slots.value(), r.running_slot, c.policy);
    c.rejected = rejected ? &*rejected : nullptr;
    c.url_policy = &url_policy_;
    c.sha256 = &sha;
    c.verifier = &verifier;
    c.transport = &transport;
    c.clock = &clock;
    c.observer = &observer;
    c.buffer = {buffer.data(), buffer.size()};
    c.config.max_attempts = s_.config->ota.max_attempts;
    c.config.first_backoff_ms = s_.config->ota.first_backoff_ms;
    c.config.max_redirects = s_.config->ota.max_redirects;
    job = std::make_unique<OtaJob>(c);
    outcome = r.url.empty() ? job->resume_from_journal() : job->start({r.url.data(), r.url.size()});
    if (outcome.is_ok()) {
      s_.log->info(
          "ota_started",
          std::string(level_name(r.level)) + " OTA job " + std::to_string(id) +
              (r.url.empty() ? " resumed from the journal: " : ": ") + job->url(),
          {{"job", id}, {"level", level_name(r.level)}, {"url", job->url()}, {"resumed", r.url.empty()}});
      outcome = job->run();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job) status_.progress = job->progress();
    if (!outcome.is_ok() && status_.progress.state != JobState::kCancelled) {
      status_.progress.state = outcome.code() == Code::kCancelled ? JobState::kCancelled : JobState::kFailed;
    }
    if (!outcome.is_ok()) status_.progress.error = outcome;
    status_.finished = true;
  }
  const JobProgress& p = status_.progress;
  if (outcome.is_ok()) {
    reboot_ = true;
    s_.log->info("ota_done",
                 std::string("job ") + std::to_string(id) + ": new " + level_name(r.level) +
                     " app selected; rebooting into it",
                 {{"job", id},
                  {"level", level_name(r.level)},
                  {"state", job_state_name(p.state)},
                  {"total", p.bytes_total},
                  {"received", p.bytes_received},
                  {"attempts", p.attempts}});
  } else {
    s_.log->warn("ota_failed",
                 std::string("job ") + std::to_string(id) + " " + job_state_name(p.state) + ": " +
                     code_name(outcome.code()) + ": " + outcome.reason(),
                 {{"job", id},
                  {"level", level_name(r.level)},
                  {"state", job_state_name(p.state)},
                  {"error", code_name(outcome.code())},
                  {"reason", outcome.reason()},
                  {"detail", outcome.detail()},
                  {"done", p.bytes_done},
                  {"attempts", p.attempts}});
  }
  if (s_.wake_fd >= 0) eventfd_write(s_.wake_fd, 1);
}

Result<JobStatus> OtaService::status(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!have_job_ || status_.id != id) return Status::error(Code::kNotFound, "no OTA job with this id", id);
  return status_;
}

Status OtaService::cancel(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!have_job_ || status_.id != id) return Status::error(Code::kNotFound, "no OTA job with this id", id);
  if (status_.finished) return Status::error(Code::kBadState, "the OTA job has already ended", id);
  cancel_ = true;
  return Status::ok();
}

}  // namespace privota::protected_app
