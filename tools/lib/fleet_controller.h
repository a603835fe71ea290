// The rollout controller (docs/fleet.md, "The controller"): talks to the broker as the controller identity,
// keeps its state in FleetDatabase, and runs a rollout wave by wave — record each job, publish it (retained,
// so an offline device gets it when it comes back), wait for the wave's outcomes, stop when the wave's
// failure rate exceeds the limit. Everything it decides is in the database first, so `privota fleet resume`
// after a stop or crash continues the same rollout without losing or repeating a job.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fleet_database.h"
#include "fleet_directory.h"
#include "privota/host/mqtt_client.h"

namespace privota::tools {

struct RolloutRequest {
  std::string level;  // "user" or "protected"
  std::string url;
  std::string version;
  std::optional<uint32_t> size;
  std::optional<std::string> sha256;
  std::vector<std::string> devices;  // empty: every device the controller knows
  std::string waves = "1%,10%,50%,100%";
  double max_failure_rate = 0.1;
  int64_t wave_timeout_s = 600;
};

// Reads a devices file: one device id per line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_devices_file(const std::filesystem::path& path);

class FleetController {
 public:
  // Opens the database and connects to the broker; throws ToolError when either fails. `out` gets the live
  // progress lines.
  FleetController(const FleetDirectory& fleet, std::ostream& out);
  ~FleetController();

  // Takes in the retained statuses and presences for `settle` (they arrive right after subscribing).
  void refresh(std::chrono::milliseconds settle);
  // Checks the request, orders the targets at random, assigns waves, stores the rollout; returns its id.
  std::string create_rollout(const RolloutRequest& request);
  // Runs the rollout from where the database says it is until it ends; returns its final state (COMPLETED,
  // ABORTED, CANCELED).
  std::string run(const std::string& id);
  // Stops a running rollout: no more waves, and a cancel for each job that has no outcome yet.
  void cancel(const std::string& id);

  FleetDatabase& database() { return db_; }

 private:
  void subscribe();
  std::optional<host::MqttMessage> next_message(std::chrono::milliseconds wait);
  void handle(const host::MqttMessage& message);
  void handle_status(const std::string& device, const std::string& payload);
  void clear_retained_job(const std::string& device);
  // A job document sent to the broker whose PUBACK has not come yet.
  struct SentJob {
    std::string job_id;
    std::string topic;
    std::string document;
    std::vector<int> mids;  // each send's message id: any one's PUBACK will do
    std::chrono::steady_clock::time_point sent_at;
    uint64_t connection = 0;  // client_->connections() when last sent
  };
  void publish_jobs(const RolloutRow& rollout, int wave);
  void send(SentJob& job);
  void collect_acknowledgements();
  bool wave_settled(const RolloutRow& rollout, int wave);
  std::string finish_wave(const RolloutRow& rollout, int wave);

  std::ostream& out_;
  FleetDatabase db_;
  std::unique_ptr<host::MqttClient> client_;
  uint64_t subscribed_connection_ = 0;
  std::map<std::string, int> progress_shown_;  // job id -> last quarter printed
  std::vector<SentJob> unacknowledged_;
  int resent_ = 0;  // sends again in this wave, reported at its end
  std::optional<std::chrono::steady_clock::time_point> sending_since_;  // the wave's first send
  size_t sending_count_ = 0;
};

}  // namespace privota::tools
