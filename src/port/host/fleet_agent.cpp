#include "privota/host/fleet_agent.h"

namespace privota::host {
namespace {

using namespace std::chrono_literals;

constexpr auto kConnectRetry = 2s;  // a broker that was not there at all
constexpr auto kProgressInterval = 250ms;

}  // namespace

FleetAgent::FleetAgent(FleetConfig config, FleetDevice& device, FleetJobStore& store)
    : config_(std::move(config)), device_(device), store_(store) {
  // The will tells the controller a device vanished without saying goodbye.
  client_ = std::make_unique<MqttClient>(config_.device_id, config_.broker,
                                         MqttWill{topic("presence"), "offline", true}, config_.keepalive_s);
}

FleetAgent::~FleetAgent() = default;

std::string FleetAgent::topic(const char* leaf) const {
  return "privota/" + config_.device_id + "/" + leaf;
}

bool FleetAgent::connected() const {
  return client_->connected();
}

bool FleetAgent::settled() const {
  return record_.unreported.empty() && !status_due_ && !status_in_flight_;
}

void FleetAgent::start() {
  record_ = store_.load();
  dispatch();
  connect_if_due();
}

// The job in hand continues from the step its record names (docs/fleet.md, the table under "Exactly once").
void FleetAgent::dispatch() {
  if (!record_.job) return;
  const FleetJob job = *record_.job;
  switch (record_.step) {
    case FleetJobStep::kReceived:
    case FleetJobStep::kOffered:
    case FleetJobStep::kDeferred:
      if (config_.user_consent && job.level == FleetLevel::kUser) {
        set_step(FleetJobStep::kOffered);
        offer_due_ = Clock::now() + std::chrono::seconds(config_.offer_again_s);
        device_.offer_job(job);
        return;
      }
      [[fallthrough]];
    case FleetJobStep::kRunning: {
      if (record_.step != FleetJobStep::kRunning) set_step(FleetJobStep::kRunning);
      const std::string refused = device_.start_job(job);
      if (!refused.empty()) finish(job.id, FleetOutcome::kRejected, refused);
      return;
    }
    case FleetJobStep::kAwaitingConfirm:
      return;  // the device reports the confirmation or the rollback after its reboot
  }
}

void FleetAgent::connect_if_due() {
  if (client_->started() || Clock::now() < next_connect_) return;
  next_connect_ = Clock::now() + kConnectRetry;
  // Without waiting for the CONNACK: the protected app's loop must not stall on the network. Once the
  // network loop started it keeps trying by itself; poll() sees the connection when it comes.
  client_->connect(0ms);
}

void FleetAgent::on_connected() {
  // A clean session: subscriptions do not survive a reconnect, retained documents are sent again.
  client_->subscribe_async(topic("job"), 1);
  client_->send(topic("presence"), "online", 1, true);
  status_due_ = true;
  status_in_flight_.reset();
}

void FleetAgent::poll(std::chrono::milliseconds wait) {
  connect_if_due();
  if (client_->connected() && client_->connections() != seen_connections_) {
    seen_connections_ = client_->connections();
    on_connected();
  }
  for (auto message = client_->next_message(wait); message; message = client_->next_message(0ms)) {
    handle(*message);
  }
  reoffer_if_due();
  publish_status_if_due();
}

void FleetAgent::handle(const MqttMessage& message) {
  if (message.topic != topic("job") || message.payload.empty())
    return;  // empty: the retained job was cleared
  const FleetJobMessage parsed = parse_fleet_job_message(message.payload);
  switch (parsed.kind) {
    case FleetJobMessage::Kind::kJob:
      accept_job(parsed.job);
      return;
    case FleetJobMessage::Kind::kCancel:
      cancel(parsed.job_id);
      return;
    case FleetJobMessage::Kind::kInvalid:
      if (!record_.knows(parsed.job_id) || parsed.job_id.empty()) {
        finish(parsed.job_id, FleetOutcome::kRejected, parsed.reason);
      }
      return;
  }
}

void FleetAgent::accept_job(const FleetJob& job) {
  if (record_.knows(job.id)) return;  // the retained document again, after a reconnect or reboot
  if (record_.job) {
    finish(job.id, FleetOutcome::kRejected, "busy with job " + record_.job->id);
    return;
  }
  record_.job = job;
  record_.step = FleetJobStep::kReceived;
  save();
  dispatch();
}

void FleetAgent::cancel(const std::string& job_id) {
  if (!record_.job || record_.job->id != job_id) return;
  const FleetJobStep step = record_.step;
  if (step == FleetJobStep::kReceived || step == FleetJobStep::kOffered || step == FleetJobStep::kDeferred) {
    finish(job_id, FleetOutcome::kCanceled, "canceled by the controller before it started");
  }
}

void FleetAgent::answer_offer(const std::string& job_id, FleetConsent answer) {
  if (!record_.job || record_.job->id != job_id || record_.step != FleetJobStep::kOffered) return;
  if (answer == FleetConsent::kDefer) {
    set_step(FleetJobStep::kDeferred);
    offer_due_ = Clock::now() + std::chrono::seconds(config_.offer_again_s);
    return;
  }
  offer_due_.reset();
  set_step(FleetJobStep::kRunning);
  dispatch();
}

// An offer the user app left unanswered counts as deferred; a deferred job is offered again when due.
void FleetAgent::reoffer_if_due() {
  if (!offer_due_ || Clock::now() < *offer_due_ || !record_.job) return;
  offer_due_.reset();
  if (record_.step == FleetJobStep::kOffered) {
    set_step(FleetJobStep::kDeferred);
    offer_due_ = Clock::now() + std::chrono::seconds(config_.offer_again_s);
  } else if (record_.step == FleetJobStep::kDeferred) {
    dispatch();
  }
}

void FleetAgent::job_progress(const std::string& job_id, const std::string& phase, uint64_t bytes,
                              uint64_t total) {
  if (!record_.job || record_.job->id != job_id || !client_->connected()) return;
  const auto now = Clock::now();
  if (now - last_progress_ < kProgressInterval && bytes != total) return;
  last_progress_ = now;
  client_->send(topic("progress"), fleet_progress_document({job_id, phase, bytes, total}), 0, false);
}

void FleetAgent::job_activated(const std::string& job_id) {
  if (!record_.job || record_.job->id != job_id) return;
  set_step(FleetJobStep::kAwaitingConfirm);
}

void FleetAgent::job_finished(const std::string& job_id, FleetOutcome outcome, const std::string& reason) {
  if (!record_.job || record_.job->id != job_id) return;
  finish(job_id, outcome, reason);
}

// Ends a job (the one in hand, or one refused on arrival) and queues its outcome for the broker.
void FleetAgent::finish(const std::string& job_id, FleetOutcome outcome, const std::string& reason) {
  if (record_.job && record_.job->id == job_id) {
    record_.job.reset();
    offer_due_.reset();
  }
  const FleetJobResult result{job_id, outcome, reason};
  record_.last = result;
  record_.unreported.push_back(result);
  if (record_.unreported.size() > FleetJobRecord::kMaxUnreported)
    record_.unreported.erase(record_.unreported.begin());
  save();
  status_due_ = true;
}

void FleetAgent::set_step(FleetJobStep step) {
  record_.step = step;
  save();
  status_due_ = true;
}

void FleetAgent::save() {
  // A record that cannot be saved cannot promise exactly once; the agent keeps going from memory (the device
  // has no better choice) and the next save tries again.
  store_.save(record_);
}

// Each unreported outcome goes out in its own status document, oldest first; only the broker's PUBACK removes
// it from the record. Then the current status, whenever it changed.
void FleetAgent::publish_status_if_due() {
  if (!client_->connected()) return;
  if (status_in_flight_) {
    if (!client_->acknowledged(*status_in_flight_)) return;
    status_in_flight_.reset();
    if (!record_.unreported.empty() && in_flight_result_ == record_.unreported.front()) {
      record_.unreported.erase(record_.unreported.begin());
      save();
    }
  }
  if (!status_due_ && record_.unreported.empty()) return;
  FleetStatus status{config_.device_id, device_.running_apps(), std::nullopt,
                     record_.unreported.empty() ? record_.last : record_.unreported.front()};
  if (record_.job) status.job = FleetStatus::Job{record_.job->id, record_.job->level, record_.step};
  in_flight_result_ = record_.unreported.empty() ? std::nullopt : std::optional(record_.unreported.front());
  status_in_flight_ = client_->send(topic("status"), fleet_status_document(status), 1, true);
  if (status_in_flight_ && record_.unreported.size() <= 1) status_due_ = false;
}

}  // namespace privota::host
