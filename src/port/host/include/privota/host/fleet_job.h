// A fleet job as the controller sends it to one device, and the outcomes a job can end with
// (docs/fleet.md: job document, cancel document, outcomes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace privota::host {

enum class FleetLevel { kUser, kProtected };

enum class FleetOutcome { kSucceeded, kRolledBack, kFailed, kRejected, kCanceled };

struct FleetJob {
  std::string id;
  FleetLevel level = FleetLevel::kUser;
  std::string url;
  std::string version;
  std::optional<uint32_t> size;
  std::optional<std::string> sha256;  // 64 lower-case hex digits

  bool operator==(const FleetJob&) const = default;
};

// What arrived on a device's job topic: a job, a cancel, or a document the device refuses (with the job id
// when one could be read, so the refusal can be reported against it).
struct FleetJobMessage {
  enum class Kind { kJob, kCancel, kInvalid };
  Kind kind = Kind::kInvalid;
  FleetJob job;        // kJob
  std::string job_id;  // kCancel: the job to cancel; kInvalid: the id if one was readable, else empty
  std::string reason;  // kInvalid: what is wrong, naming the field
};

// Parses and checks a job or cancel document: every field's type and value, no unknown fields.
FleetJobMessage parse_fleet_job_message(const std::string& payload);
std::string fleet_job_document(const FleetJob& job);
std::string fleet_cancel_document(const std::string& job_id);

// 1..96 of A-Z a-z 0-9 . _ -
bool is_fleet_job_id(const std::string& id);

const char* fleet_level_name(FleetLevel level);  // "user", "protected"
std::optional<FleetLevel> fleet_level_by_name(const std::string& name);
const char* fleet_outcome_name(FleetOutcome outcome);  // "SUCCEEDED", ...
std::optional<FleetOutcome> fleet_outcome_by_name(const std::string& name);

}  // namespace privota::host
