// The controller's state in SQLite (docs/fleet.md, "The controller"): the devices it has heard of, the
// rollouts, each rollout's targets with their wave, and one job record per device and rollout. A job is
// recorded *before* it is published and marked published after the broker acknowledged it, so a controller
// stopped at any point neither loses a job nor makes a second one; an outcome is recorded once per job id.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace privota::tools {

struct DeviceRow {
  std::string id;
  std::string status;     // the last status document, as received ("" if none yet)
  std::string presence;   // "online", "offline" or ""
  int64_t last_seen = 0;  // Unix seconds of the last message from it
};

struct RolloutRow {
  std::string id;
  std::string level;
  std::string url;
  std::string version;
  std::optional<uint32_t> size;
  std::optional<std::string> sha256;
  std::string waves;  // as given, e.g. "5%,100%"
  double max_failure_rate = 0;
  int64_t wave_timeout_s = 0;
  std::string state;  // RUNNING, COMPLETED, ABORTED, CANCELED
  std::string reason;
  int wave_count = 0;
  int current_wave = 0;
  std::optional<int64_t> wave_started_at;
  int64_t created_at = 0;
};

struct JobRow {
  std::string id;
  std::string rollout;
  std::string device;
  int wave = 0;
  bool published = false;
  std::string step;                    // the device's last reported step for it ("" before any)
  std::optional<std::string> outcome;  // final outcome, once known
  std::string reason;
};

class FleetDatabase {
 public:
  // Opens (creating) the database; throws ToolError.
  explicit FleetDatabase(const std::filesystem::path& path);
  ~FleetDatabase();
  FleetDatabase(const FleetDatabase&) = delete;
  FleetDatabase& operator=(const FleetDatabase&) = delete;

  void save_device_status(const std::string& id, const std::string& status, int64_t now);
  void save_presence(const std::string& id, const std::string& presence, int64_t now);
  std::vector<DeviceRow> devices();

  // The rollout and its targets (device, wave) in one transaction.
  void create_rollout(const RolloutRow& rollout, const std::vector<std::pair<std::string, int>>& targets);
  std::optional<RolloutRow> rollout(const std::string& id);
  std::vector<RolloutRow> rollouts();
  void set_rollout_state(const std::string& id, const std::string& state, const std::string& reason);
  void start_wave(const std::string& id, int wave, int64_t now);
  std::vector<std::string> wave_targets(const std::string& rollout, int wave);

  // Records a job unless one exists for that id; true if it was new.
  bool record_job(const JobRow& job);
  // Each of `jobs` as record_job does, in one transaction (a wave of hundreds is one disk sync, not
  // hundreds).
  void record_jobs(const std::vector<JobRow>& jobs);
  void mark_published(const std::string& job_id);
  // mark_published for each, in one transaction.
  void mark_published(const std::vector<std::string>& job_ids);
  std::vector<JobRow> jobs(const std::string& rollout);
  std::optional<JobRow> job(const std::string& id);
  // Records the job's final outcome unless it has one; true if this was the first.
  bool record_outcome(const std::string& job_id, const std::string& outcome, const std::string& reason);
  void record_step(const std::string& job_id, const std::string& step);
  // Jobs of `device` published and still without an outcome, in any rollout.
  int64_t open_job_count(const std::string& device);

 private:
  void exec(const std::string& sql);
  void in_transaction(const std::function<void()>& work);
  sqlite3* db_ = nullptr;
};

}  // namespace privota::tools
