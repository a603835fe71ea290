// FleetLink: the protected app's half of the fleet agent (docs/fleet.md, "The agent in the protected app").
// The agent (host::FleetAgent) speaks MQTT and keeps the job's record; this class is the device it talks to:
//   - a job becomes the core OtaService's background job under the device's URL policy, with the job's
//     version, size and SHA-256 as the image's expectation. The fleet is an owner like the level's own
//     caller: while another job runs the answer is BUSY, and the fleet's job is REJECTED with that reason;
//   - the job's progress, its failure (FAILED with the reason) or its activation (the device reboots);
//   - after that reboot, what became of it: the new app confirmed itself → SUCCEEDED; its trial failed and
//     the previous app runs again → ROLLED_BACK;
//   - a user-level job that needs the user app's consent goes on offer (the core's FleetOffer, read and
//     answered through system calls 11 and 12); the answer goes back to the agent.
// Its record lives in the flash partition `fleet` (FlashFleetJobStore). Nothing here blocks: the agent's
// network runs on libmosquitto's thread and poll() only takes what arrived.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/fleet_offer.h"
#include "privota/host/event_log.h"
#include "privota/host/flash_fleet_job_store.h"
#include "privota/host/fleet_agent.h"
#include "privota/ota_service.h"

namespace privota::protected_app {

// One level's app this boot runs (for the status document and for judging a job after its reboot).
struct RunningApp {
  bool present = false;
  uint32_t slot = 0;
  AppDescriptor desc;
  AppSlots* slots = nullptr;  // its select partition and slots (nullptr: the table has none)
};

class FleetLink final : public host::FleetDevice {
 public:
  struct Setup {
    OtaService* ota = nullptr;
    FleetOffer* offer = nullptr;
    host::EventLog* log = nullptr;
    RunningApp protected_app;
    RunningApp user_app;
    std::function<void()> job_started;  // tells the supervisor a job runs
  };

  // The link over `store` (the record is read at once: see expectation()).
  FleetLink(const host::FleetConfig& config, host::FlashFleetJobStore store, Setup setup);

  // Before the device resumes an interrupted OTA job of `level`: the expectation of the fleet job that was
  // running it (nullptr: none). adopt() then tells which OTA job that is.
  const ImageExpectation* expectation(AppLevel level);
  void adopt(uint32_t ota_job_id);
  // Starts the agent: it resumes its job and connects.
  void start();
  // One round of the protected app's loop.
  void poll();
  // The OTA job `job` ended (OtaService::on_job_finished); `activated`: it selected its image.
  void job_ended(const JobView& job, bool activated);
  // An app of this boot confirmed itself: its state in the status changed.
  void confirmed() { agent_.apps_changed(); }
  // This boot's user app failed its trial (or gave up on itself): `why`, before the device reboots.
  void trial_failed(const std::string& why);

  host::FleetRunningApps running_apps() override;
  std::string start_job(const host::FleetJob& job) override;
  void offer_job(const host::FleetJob& job) override;

 private:
  RunningApp& app(host::FleetLevel level);
  host::FleetAppState app_state(const RunningApp& app);
  void report_progress();
  void settle();
  void finish(host::FleetOutcome outcome, const std::string& reason);
  void pass_answer();

  host::FlashFleetJobStore store_;
  host::FleetJobRecord at_boot_;  // the record as this boot found it
  Setup s_;
  host::FleetAgent agent_;
  ImageExpectation expect_;
  std::optional<uint32_t> ota_job_;     // the OTA job running the fleet's job
  bool activated_this_boot_ = false;    // its image was selected in this boot (judged after the reboot)
  bool installed_before_boot_ = false;  // it was running at the cut and its image already runs
};

}  // namespace privota::protected_app
