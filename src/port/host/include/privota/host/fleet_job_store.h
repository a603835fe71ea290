// The fleet agent's power-safe memory (docs/fleet.md, "Exactly once"): the job in hand and its step, and the
// outcomes not yet acknowledged by the broker. The agent saves a record before each step it describes, so a
// power cut anywhere resumes or finishes the same job and reports each outcome until the broker has it.
//
// FleetJobStore is the one thing the agent needs from the platform here: on a device the record lives in
// flash (the protected app decides where; the encoding is to_json(), at most kMaxEncodedSize bytes), in the
// host tests in a file (FileFleetJobStore).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "privota/host/fleet_job.h"

namespace privota::host {

// The step the job in hand has reached.
enum class FleetJobStep {
  kReceived,         // accepted from the broker, not yet started or offered
  kOffered,          // waiting for the user app's consent
  kDeferred,         // the user app declined for now; offered again later
  kRunning,          // handed to the device's OTA job
  kAwaitingConfirm,  // activated; the new app has not confirmed itself yet
};

const char* fleet_job_step_name(FleetJobStep step);  // "received", "offered", ... as in the status document

struct FleetJobResult {
  std::string job_id;
  FleetOutcome outcome = FleetOutcome::kFailed;
  std::string reason;

  bool operator==(const FleetJobResult&) const = default;
};

struct FleetJobRecord {
  std::optional<FleetJob> job;  // the job in hand
  FleetJobStep step = FleetJobStep::kReceived;
  std::optional<FleetJobResult> last;      // the last job that ended (reported or not)
  std::vector<FleetJobResult> unreported;  // ended, not yet acknowledged by the broker, oldest first

  static constexpr size_t kMaxUnreported =
      4;  // the oldest are dropped beyond this (each also stays in `last` once)
  static constexpr size_t kMaxEncodedSize = 4096;  // one flash sector

  // Whether `id` is the job in hand or the last one that ended: a retained job document arriving again.
  bool knows(const std::string& id) const;

  std::string to_json() const;
  // nullopt if `text` is not a record (a torn or foreign write): the agent then starts with an empty one.
  static std::optional<FleetJobRecord> from_json(const std::string& text);

  bool operator==(const FleetJobRecord&) const = default;
};

class FleetJobStore {
 public:
  virtual ~FleetJobStore() = default;
  // The last record saved completely, or an empty record.
  virtual FleetJobRecord load() = 0;
  // Returns only when the record is durable (survives a power cut); false if it could not be saved.
  virtual bool save(const FleetJobRecord& record) = 0;
};

// A file, replaced atomically (write a temp file, fsync, rename, fsync the directory).
class FileFleetJobStore final : public FleetJobStore {
 public:
  explicit FileFleetJobStore(std::filesystem::path path) : path_(std::move(path)) {}
  FleetJobRecord load() override;
  bool save(const FleetJobRecord& record) override;

 private:
  std::filesystem::path path_;
};

}  // namespace privota::host
