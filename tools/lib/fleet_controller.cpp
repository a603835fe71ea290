#include "fleet_controller.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include <fmt/format.h>

#include "file_io.h"
#include "fleet_ca.h"
#include "fleet_waves.h"
#include "privota/host/fleet_job.h"
#include "privota/host/fleet_status.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

using namespace std::chrono_literals;

constexpr auto kBrokerTimeout = 5s;
// A QoS 1 message on a live connection is acknowledged unless the broker lost it; this only bounds how long a
// job waits for that before it is sent again (a busy broker on a shared machine can take seconds).
constexpr auto kResendAfter = 30s;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string new_rollout_id() {
  std::random_device random;
  return fmt::format("{:08x}", random());
}

// "privota/<device>/<leaf>" -> {device, leaf}; empty device for any other topic.
std::pair<std::string, std::string> split_topic(const std::string& topic) {
  const std::string prefix = "privota/";
  const size_t slash = topic.find('/', prefix.size());
  if (topic.rfind(prefix, 0) != 0 || slash == std::string::npos) return {};
  return {topic.substr(prefix.size(), slash - prefix.size()), topic.substr(slash + 1)};
}

bool is_failure(const JobRow& job) {
  return job.outcome && *job.outcome != "SUCCEEDED" && *job.outcome != "CANCELED";
}

}  // namespace

std::vector<std::string> read_devices_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ToolError(fmt::format("cannot read the devices file '{}'", path.string()));
  std::vector<std::string> devices;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty() || line[0] == '#') continue;
    check_device_id(line);
    if (!seen.insert(line).second) {
      throw ToolError(fmt::format("'{}' names device '{}' twice", path.string(), line));
    }
    devices.push_back(line);
  }
  if (devices.empty()) throw ToolError(fmt::format("'{}' names no device", path.string()));
  return devices;
}

namespace {

// The database lives beside the controller's identity; without one there is no controller to keep state for.
std::filesystem::path controller_database(const FleetDirectory& fleet) {
  fleet.broker_port();  // a fleet directory, or a clear error
  if (!std::filesystem::exists(fleet.controller() / "cert.pem")) {
    throw ToolError(
        fmt::format("'{}' has no controller identity; make it with `privota fleet controller new`",
                    fleet.root().string()));
  }
  return fleet.database();
}

}  // namespace

FleetController::FleetController(const FleetDirectory& fleet, std::ostream& out)
    : out_(out), db_(controller_database(fleet)) {
  const uint16_t port = fleet.broker_port();
  const host::MqttEndpoint endpoint{"127.0.0.1", port, read_text_file(fleet.ca() / "cert.pem"),
                                    read_text_file(fleet.controller() / "cert.pem"),
                                    read_text_file(fleet.controller() / "key.pem")};
  // The user name (the certificate's CN) is what the ACL checks; the client id only has to be unique, so
  // `fleet status` can run beside a `fleet rollout`.
  client_ = std::make_unique<host::MqttClient>(fmt::format("{}-{}", kControllerId, getpid()), endpoint);
  const std::string error = client_->connect(kBrokerTimeout);
  if (!error.empty())
    throw ToolError(fmt::format("cannot reach the fleet broker at 127.0.0.1:{}: {}", port, error));
  subscribe();
}

// After a lost connection libmosquitto reconnects by itself, but with a clean session the subscriptions are
// gone: take them again (the retained statuses then come again, and outcomes are recorded once per job).
void FleetController::subscribe() {
  subscribed_connection_ = client_->connections();
  for (const char* topic : {"privota/+/status", "privota/+/presence", "privota/+/progress"}) {
    if (client_->subscribe(topic, 1, kBrokerTimeout) != 1) {
      throw ToolError(fmt::format(
          "the broker refused the subscription to {}: is this the controller's identity?", topic));
    }
  }
}

std::optional<host::MqttMessage> FleetController::next_message(std::chrono::milliseconds wait) {
  if (client_->connected() && client_->connections() != subscribed_connection_) subscribe();
  return client_->next_message(wait);
}

FleetController::~FleetController() = default;

void FleetController::refresh(std::chrono::milliseconds settle) {
  const auto deadline = std::chrono::steady_clock::now() + settle;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto message = next_message(20ms)) handle(*message);
  }
}

void FleetController::handle(const host::MqttMessage& message) {
  const auto [device, leaf] = split_topic(message.topic);
  if (device.empty() || message.payload.empty()) return;
  if (leaf == "status") {
    handle_status(device, message.payload);
  } else if (leaf == "presence") {
    db_.save_presence(device, message.payload, unix_now());
  } else if (leaf == "progress") {
    const auto progress = host::parse_fleet_progress(message.payload);
    if (!progress || progress->total == 0) return;
    const int quarter = static_cast<int>(std::min<uint64_t>(4, progress->bytes * 4 / progress->total));
    int& shown = progress_shown_[progress->job_id];
    if (quarter > shown) {
      shown = quarter;
      out_ << fmt::format("  {}: {} {}%\n", device, progress->phase, quarter * 25) << std::flush;
    }
  }
}

// A device's status may end a job: only a job of that very device (its ACL lets it write only its own status,
// but it could name any job id).
void FleetController::handle_status(const std::string& device, const std::string& payload) {
  const auto status = host::parse_fleet_status(payload);
  if (!status || status->device != device) return;
  db_.save_device_status(device, payload, unix_now());
  if (status->job) {
    const auto job = db_.job(status->job->id);
    const std::string step = host::fleet_job_step_name(status->job->step);
    if (job && job->device == device && !job->outcome && job->step != step) {
      db_.record_step(job->id, step);
      if (step == "deferred") out_ << fmt::format("  {}: DEFERRED by the user app\n", device) << std::flush;
    }
  }
  if (status->last_job) {
    const auto job = db_.job(status->last_job->job_id);
    const std::string outcome = host::fleet_outcome_name(status->last_job->outcome);
    if (job && job->device == device && db_.record_outcome(job->id, outcome, status->last_job->reason)) {
      out_ << fmt::format("  {}: {}{}\n", device, outcome,
                          status->last_job->reason.empty() ? "" : " (" + status->last_job->reason + ")")
           << std::flush;
      clear_retained_job(device);
    }
  }
}

// A job stays retained until its outcome is in: then it goes, so a device whose record was wiped (a factory
// reset) does not run it again. Not while another job of the device is open: the retained one is that job.
void FleetController::clear_retained_job(const std::string& device) {
  if (db_.open_job_count(device) != 0) return;
  // Without waiting for the PUBACK: the loop must go on taking in outcomes (a lost clear only leaves a job
  // the device already knows).
  client_->send("privota/" + device + "/job", "", 1, true);
}

std::string FleetController::create_rollout(const RolloutRequest& request) {
  if (!host::fleet_level_by_name(request.level)) throw ToolError("--level must be user or protected");
  const std::vector<double> waves = parse_waves(request.waves);
  if (request.max_failure_rate < 0 || request.max_failure_rate > 1) {
    throw ToolError("--max-failure-rate must be 0% to 100%");
  }
  if (request.wave_timeout_s <= 0) throw ToolError("--wave-timeout must be at least 1 second");
  const std::string id = new_rollout_id();
  host::FleetJob probe{id + "-x",    *host::fleet_level_by_name(request.level),
                       request.url,  request.version,
                       request.size, request.sha256};
  // The document every device will get must pass the devices' own check.
  const auto checked = host::parse_fleet_job_message(host::fleet_job_document(probe));
  if (checked.kind != host::FleetJobMessage::Kind::kJob)
    throw ToolError("the job would be refused: " + checked.reason);

  std::vector<std::string> devices = request.devices;
  if (devices.empty()) {
    for (const DeviceRow& row : db_.devices())
      devices.push_back(row.id);
    if (devices.empty()) throw ToolError("no device has reported to the broker yet; give --devices FILE");
  }
  std::shuffle(devices.begin(), devices.end(), std::mt19937(std::random_device{}()));
  const std::vector<int> assigned = assign_waves(waves, devices.size());
  std::vector<std::pair<std::string, int>> targets;
  for (size_t i = 0; i < devices.size(); ++i)
    targets.emplace_back(devices[i], assigned[i]);

  RolloutRow row;
  row.id = id;
  row.level = request.level;
  row.url = request.url;
  row.version = request.version;
  row.size = request.size;
  row.sha256 = request.sha256;
  row.waves = request.waves;
  row.max_failure_rate = request.max_failure_rate;
  row.wave_timeout_s = request.wave_timeout_s;
  row.state = "RUNNING";
  row.wave_count = assigned.empty() ? 0 : assigned.back() + 1;
  row.created_at = unix_now();
  db_.create_rollout(row, targets);
  out_ << fmt::format("rollout {}: {} {} to {} devices in {} waves\n", id, request.level, request.version,
                      devices.size(), row.wave_count)
       << std::flush;
  return id;
}

// Records, then sends, each job of the wave; a job recorded but perhaps not published before a stop is
// published again with the same id, which the device recognises. The sends do not wait for the broker: a
// wave's documents go out back to back and their PUBACKs are collected while outcomes come in
// (collect_acknowledgements), so a broker slowed by a whole fleet's traffic delays the wave, never stops it.
void FleetController::publish_jobs(const RolloutRow& rollout, int wave) {
  std::vector<JobRow> records;
  for (const std::string& device : db_.wave_targets(rollout.id, wave))
    records.push_back({rollout.id + "-" + device, rollout.id, device, wave, false, "", std::nullopt, ""});
  db_.record_jobs(records);
  for (const JobRow& job : db_.jobs(rollout.id)) {
    if (job.wave != wave || job.published || job.outcome) continue;
    const host::FleetJob document{job.id,       *host::fleet_level_by_name(rollout.level),
                                  rollout.url,  rollout.version,
                                  rollout.size, rollout.sha256};
    SentJob sent{job.id, "privota/" + job.device + "/job", host::fleet_job_document(document), {}, {}, 0};
    send(sent);
    unacknowledged_.push_back(std::move(sent));
  }
  if (!unacknowledged_.empty()) {
    sending_since_ = std::chrono::steady_clock::now();
    sending_count_ = unacknowledged_.size();
  }
}

void FleetController::send(SentJob& job) {
  job.sent_at = std::chrono::steady_clock::now();
  job.connection = client_->connections();
  if (const auto mid = client_->send(job.topic, job.document, 1, true)) job.mids.push_back(*mid);
}

// Marks the jobs the broker acknowledged as published (one transaction per round). A job whose PUBACK did not
// come within kResendAfter, or that was sent on a connection lost since, is sent again: the same document, so
// harmless to a device that already has it. A job with an outcome needs no acknowledgement any more.
void FleetController::collect_acknowledgements() {
  if (unacknowledged_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> taken;
  for (auto it = unacknowledged_.begin(); it != unacknowledged_.end();) {
    const bool acknowledged =
        std::any_of(it->mids.begin(), it->mids.end(), [&](int mid) { return client_->acknowledged(mid); });
    if (acknowledged || db_.job(it->job_id)->outcome) {
      taken.push_back(it->job_id);
      it = unacknowledged_.erase(it);
      continue;
    }
    if (client_->connected() &&
        (it->mids.empty() || it->connection != client_->connections() || now - it->sent_at > kResendAfter)) {
      ++resent_;
      send(*it);
    }
    ++it;
  }
  if (!taken.empty()) db_.mark_published(taken);
  if (unacknowledged_.empty() && sending_since_) {
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - *sending_since_);
    out_ << fmt::format("  the broker took the {} job documents in {:.1f} s\n", sending_count_, took.count())
         << std::flush;
    sending_since_.reset();
  }
}

bool FleetController::wave_settled(const RolloutRow& rollout, int wave) {
  for (const JobRow& job : db_.jobs(rollout.id))
    if (job.wave == wave && !job.outcome) return false;
  return true;
}

// A job without an outcome at the wave's end counts as failed (a device that goes silent after an update is
// what staged rollouts guard against), unless the user app deferred it.
std::string FleetController::finish_wave(const RolloutRow& rollout, int wave) {
  size_t size = 0, failed = 0, deferred = 0;
  for (const JobRow& job : db_.jobs(rollout.id)) {
    if (job.wave != wave) continue;
    ++size;
    if (is_failure(job) || (!job.outcome && job.step != "deferred")) ++failed;
    if (!job.outcome && job.step == "deferred") ++deferred;
  }
  const double rate = size == 0 ? 0 : static_cast<double>(failed) / static_cast<double>(size);
  out_ << fmt::format("wave {}/{}: {} devices, {} failed, {} deferred\n", wave + 1, rollout.wave_count, size,
                      failed, deferred)
       << std::flush;
  if (rate > rollout.max_failure_rate) {
    const std::string reason = fmt::format("wave {}: {} of {} failed ({:.0f}% > {:.0f}%)", wave + 1, failed,
                                           size, rate * 100, rollout.max_failure_rate * 100);
    db_.set_rollout_state(rollout.id, "ABORTED", reason);
    return "ABORTED";
  }
  if (wave + 1 >= rollout.wave_count) {
    db_.set_rollout_state(rollout.id, "COMPLETED", "");
    return "COMPLETED";
  }
  db_.start_wave(rollout.id, wave + 1, unix_now());
  return "RUNNING";
}

std::string FleetController::run(const std::string& id) {
  for (;;) {
    const auto rollout = db_.rollout(id);
    if (!rollout) throw ToolError(fmt::format("there is no rollout '{}'", id));
    if (rollout->state != "RUNNING") return rollout->state;
    const int wave = rollout->current_wave;
    if (!rollout->wave_started_at) {
      db_.start_wave(id, wave, unix_now());
      continue;
    }
    publish_jobs(*rollout, wave);
    const int64_t deadline = *rollout->wave_started_at + rollout->wave_timeout_s;
    while (!wave_settled(*rollout, wave) && unix_now() < deadline) {
      // Messages are taken in as they come; the wave's jobs are read again only every 200 ms, not per
      // message.
      const auto until = std::chrono::steady_clock::now() + 200ms;
      for (auto now = std::chrono::steady_clock::now(); now < until; now = std::chrono::steady_clock::now()) {
        if (auto message = next_message(std::chrono::duration_cast<std::chrono::milliseconds>(until - now)))
          handle(*message);
      }
      collect_acknowledgements();
      if (db_.rollout(id)->state != "RUNNING") break;  // canceled meanwhile
    }
    collect_acknowledgements();
    if (db_.rollout(id)->state != "RUNNING") continue;
    if (resent_ != 0) {
      out_ << fmt::format("  {} job documents sent again (no PUBACK within {} s)\n", resent_,
                          std::chrono::duration_cast<std::chrono::seconds>(kResendAfter).count())
           << std::flush;
      resent_ = 0;
    }
    if (!unacknowledged_.empty()) {
      // Not the devices' failure: the broker never took these jobs. The rollout stays RUNNING for `resume`.
      throw ToolError(
          fmt::format("the broker did not take the jobs of {} devices in wave {}; run `privota fleet "
                      "resume {}` once it is reachable",
                      unacknowledged_.size(), wave + 1, id));
    }
    finish_wave(*rollout, wave);
  }
}

void FleetController::cancel(const std::string& id) {
  const auto rollout = db_.rollout(id);
  if (!rollout) throw ToolError(fmt::format("there is no rollout '{}'", id));
  if (rollout->state != "RUNNING")
    throw ToolError(fmt::format("rollout {} is already {}", id, rollout->state));
  db_.set_rollout_state(id, "CANCELED", "canceled by the operator");
  for (const JobRow& job : db_.jobs(id)) {
    if (job.outcome) continue;
    client_->publish("privota/" + job.device + "/job", host::fleet_cancel_document(job.id), 1, true,
                     kBrokerTimeout);
  }
}

}  // namespace privota::tools
