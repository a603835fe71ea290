// The status document a device keeps retained on privota/<id>/status, and the progress document
// (docs/fleet.md). The agent writes them; the controller reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "privota/host/fleet_job.h"
#include "privota/host/fleet_job_store.h"

namespace privota::host {

// One level's running app: its version, anti-rollback version and the otadata/uotadata state of its slot
// ("valid", "pending_verify", ...).
struct FleetAppState {
  std::string version;
  uint32_t secure_version = 0;
  std::string state;

  bool operator==(const FleetAppState&) const = default;
};

struct FleetRunningApps {
  FleetAppState protected_app;
  FleetAppState user_app;

  bool operator==(const FleetRunningApps&) const = default;
};

struct FleetStatus {
  struct Job {
    std::string id;
    FleetLevel level = FleetLevel::kUser;
    FleetJobStep step = FleetJobStep::kReceived;
    bool operator==(const Job&) const = default;
  };
  std::string device;
  FleetRunningApps apps;
  std::optional<Job> job;
  std::optional<FleetJobResult> last_job;

  bool operator==(const FleetStatus&) const = default;
};

std::string fleet_status_document(const FleetStatus& status);
// nullopt if `payload` is not a version 1 status document.
std::optional<FleetStatus> parse_fleet_status(const std::string& payload);

struct FleetProgress {
  std::string job_id;
  std::string phase;  // "download", "verify", "activate"
  uint64_t bytes = 0;
  uint64_t total = 0;  // 0: unknown
};
std::string fleet_progress_document(const FleetProgress& progress);
std::optional<FleetProgress> parse_fleet_progress(const std::string& payload);

}  // namespace privota::host
