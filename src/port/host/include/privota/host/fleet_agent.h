// FleetAgent: the device's side of the fleet (docs/fleet.md). It connects to the broker with the device's
// identity, keeps the retained status and presence, receives job documents on its own job topic, checks them
// (a bad document ends as REJECTED with the reason) and hands each job to the device through FleetDevice —
// the protected app, which runs it as its ordinary background OTA job under the same URL policy. The device
// tells the agent how the job goes (progress, activated, finished); the agent records every step in its
// FleetJobStore before acting on it, so after a reboot or power cut it resumes the same job and reports each
// outcome exactly once (re-sent until the broker acknowledges it; the controller ignores repeats by job id).
//
// Single-threaded: the protected app calls poll() from its loop, and the job callbacks from the same thread.
// Nothing here waits on the network (libmosquitto's own thread runs it): poll(0ms) returns at once.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "privota/host/fleet_config.h"
#include "privota/host/fleet_job.h"
#include "privota/host/fleet_job_store.h"
#include "privota/host/fleet_status.h"
#include "privota/host/mqtt_client.h"

namespace privota::host {

// What only the device can do for the agent (the protected app implements it).
class FleetDevice {
 public:
  virtual ~FleetDevice() = default;
  // Both levels' running apps, for the status document.
  virtual FleetRunningApps running_apps() = 0;
  // Start (or, after a reboot, resume) `job` as the background OTA job, checking its URL against the device's
  // policy. Empty: started; it ends later with FleetAgent::job_finished. Otherwise the reason it was refused,
  // which the agent reports as REJECTED. The same job id may come again after a reboot: resume it, do not
  // start a second one.
  virtual std::string start_job(const FleetJob& job) = 0;
  // With user consent on: show a user-level job to the user app; its answer comes through answer_offer().
  virtual void offer_job(const FleetJob& job) = 0;
};

enum class FleetConsent { kAccept, kDefer };

class FleetAgent {
 public:
  using Clock = std::chrono::steady_clock;

  FleetAgent(FleetConfig config, FleetDevice& device, FleetJobStore& store);
  ~FleetAgent();
  FleetAgent(const FleetAgent&) = delete;
  FleetAgent& operator=(const FleetAgent&) = delete;

  // Loads the record and resumes the job in hand, then connects (a broker that is not there yet is retried
  // from poll()).
  void start();
  // One turn: (re)connect and subscribe, handle the messages that arrived (waiting up to `wait` for the
  // first), publish the status while it or an unreported outcome is pending, offer deferred jobs again when
  // due.
  void poll(std::chrono::milliseconds wait);

  // From the device, about the job in hand (calls with another job id are ignored):
  void job_progress(const std::string& job_id, const std::string& phase, uint64_t bytes, uint64_t total);
  // Before the reboot into the new app: after it, the job waits for the app to confirm itself.
  void job_activated(const std::string& job_id);
  // The final outcome: SUCCEEDED only once the new app confirmed itself after the reboot.
  void job_finished(const std::string& job_id, FleetOutcome outcome, const std::string& reason);
  // The user app's answer to an offer (user consent).
  void answer_offer(const std::string& job_id, FleetConsent answer);
  // What running_apps() says changed (an app confirmed itself): the status goes out again.
  void apps_changed() { status_due_ = true; }

  const FleetJobRecord& record() const { return record_; }
  bool connected() const;
  // Whether every outcome has been acknowledged by the broker and the latest status sent.
  bool settled() const;

 private:
  std::string topic(const char* leaf) const;
  void connect_if_due();
  void on_connected();
  void handle(const MqttMessage& message);
  void accept_job(const FleetJob& job);
  void dispatch();
  void cancel(const std::string& job_id);
  void finish(const std::string& job_id, FleetOutcome outcome, const std::string& reason);
  void set_step(FleetJobStep step);
  void save();
  void publish_status_if_due();
  void reoffer_if_due();

  FleetConfig config_;
  FleetDevice& device_;
  FleetJobStore& store_;
  std::unique_ptr<MqttClient> client_;
  FleetJobRecord record_;

  uint64_t seen_connections_ = 0;
  Clock::time_point next_connect_{};
  bool status_due_ = true;
  std::optional<int> status_in_flight_;             // message id of the status sent last
  std::optional<FleetJobResult> in_flight_result_;  // the unreported outcome it carries, if any
  std::optional<Clock::time_point> offer_due_;
  Clock::time_point last_progress_{};
};

}  // namespace privota::host
