#include "fleet_database.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "tool_error.h"

namespace privota::tools {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, status TEXT NOT NULL DEFAULT '', presence TEXT NOT NULL DEFAULT '',
  last_seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS rollouts (
  id TEXT PRIMARY KEY, level TEXT NOT NULL, url TEXT NOT NULL, version TEXT NOT NULL, size INTEGER,
  sha256 TEXT, waves TEXT NOT NULL, max_failure_rate REAL NOT NULL, wave_timeout_s INTEGER NOT NULL,
  state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', wave_count INTEGER NOT NULL,
  current_wave INTEGER NOT NULL DEFAULT 0, wave_started_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS targets (
  rollout TEXT NOT NULL REFERENCES rollouts(id), device TEXT NOT NULL, wave INTEGER NOT NULL,
  PRIMARY KEY (rollout, device));
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, rollout TEXT NOT NULL REFERENCES rollouts(id), device TEXT NOT NULL,
  wave INTEGER NOT NULL, published INTEGER NOT NULL DEFAULT 0, step TEXT NOT NULL DEFAULT '',
  outcome TEXT, reason TEXT NOT NULL DEFAULT '');
)sql";

// One prepared statement, finalized on every path.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  // True while a row is there.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw ToolError(fmt::format("the fleet database failed ({}): {}", what, sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kRolloutColumns =
    "id, level, url, version, size, sha256, waves, max_failure_rate, wave_timeout_s, state, reason, "
    "wave_count, "
    "current_wave, wave_started_at, created_at";

RolloutRow rollout_from(const Statement& s) {
  RolloutRow r;
  r.id = s.text(0);
  r.level = s.text(1);
  r.url = s.text(2);
  r.version = s.text(3);
  if (!s.is_null(4)) r.size = static_cast<uint32_t>(s.integer(4));
  if (!s.is_null(5)) r.sha256 = s.text(5);
  r.waves = s.text(6);
  r.max_failure_rate = s.real(7);
  r.wave_timeout_s = s.integer(8);
  r.state = s.text(9);
  r.reason = s.text(10);
  r.wave_count = static_cast<int>(s.integer(11));
  r.current_wave = static_cast<int>(s.integer(12));
  if (!s.is_null(13)) r.wave_started_at = s.integer(13);
  r.created_at = s.integer(14);
  return r;
}

constexpr const char* kJobColumns = "id, rollout, device, wave, published, step, outcome, reason";

JobRow job_from(const Statement& s) {
  JobRow j;
  j.id = s.text(0);
  j.rollout = s.text(1);
  j.device = s.text(2);
  j.wave = static_cast<int>(s.integer(3));
  j.published = s.integer(4) != 0;
  j.step = s.text(5);
  if (!s.is_null(6)) j.outcome = s.text(6);
  j.reason = s.text(7);
  return j;
}

}  // namespace

FleetDatabase::FleetDatabase(const std::filesystem::path& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw ToolError(fmt::format("cannot open the fleet database '{}': {}", path.string(), why));
  }
  // Another controller command (status, cancel) may hold the lock for a moment.
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  exec(kSchema);
}

FleetDatabase::~FleetDatabase() {
  sqlite3_close(db_);
}

void FleetDatabase::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw ToolError("the fleet database failed: " + why);
  }
}

void FleetDatabase::save_device_status(const std::string& id, const std::string& status, int64_t now) {
  Statement s(db_,
              "INSERT INTO devices (id, status, last_seen) VALUES (?1, ?2, ?3) "
              "ON CONFLICT(id) DO UPDATE SET status = ?2, last_seen = ?3");
  s.bind(1, id).bind(2, status).bind(3, now).step();
}

void FleetDatabase::save_presence(const std::string& id, const std::string& presence, int64_t now) {
  Statement s(db_,
              "INSERT INTO devices (id, presence, last_seen) VALUES (?1, ?2, ?3) "
              "ON CONFLICT(id) DO UPDATE SET presence = ?2, last_seen = max(last_seen, ?3)");
  s.bind(1, id).bind(2, presence).bind(3, now).step();
}

std::vector<DeviceRow> FleetDatabase::devices() {
  Statement s(db_, "SELECT id, status, presence, last_seen FROM devices ORDER BY id");
  std::vector<DeviceRow> rows;
  while (s.step())
    rows.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
  return rows;
}

void FleetDatabase::create_rollout(const RolloutRow& r,
                                   const std::vector<std::pair<std::string, int>>& targets) {
  exec("BEGIN IMMEDIATE");
  try {
    Statement s(db_,
                fmt::format("INSERT INTO rollouts ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                            "?12, ?13, ?14, ?15)",
                            kRolloutColumns)
                    .c_str());
    s.bind(1, r.id).bind(2, r.level).bind(3, r.url).bind(4, r.version);
    r.size ? s.bind(5, static_cast<int64_t>(*r.size)) : s.bind_null(5);
    r.sha256 ? s.bind(6, *r.sha256) : s.bind_null(6);
    s.bind(7, r.waves)
        .bind(8, r.max_failure_rate)
        .bind(9, r.wave_timeout_s)
        .bind(10, r.state)
        .bind(11, r.reason);
    s.bind(12, static_cast<int64_t>(r.wave_count))
        .bind(13, static_cast<int64_t>(r.current_wave))
        .bind_null(14);
    s.bind(15, r.created_at).step();
    for (const auto& [device, wave] : targets) {
      Statement t(db_, "INSERT INTO targets (rollout, device, wave) VALUES (?1, ?2, ?3)");
      t.bind(1, r.id).bind(2, device).bind(3, static_cast<int64_t>(wave)).step();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::optional<RolloutRow> FleetDatabase::rollout(const std::string& id) {
  Statement s(db_, fmt::format("SELECT {} FROM rollouts WHERE id = ?1", kRolloutColumns).c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return rollout_from(s);
}

std::vector<RolloutRow> FleetDatabase::rollouts() {
  Statement s(db_, fmt::format("SELECT {} FROM rollouts ORDER BY created_at", kRolloutColumns).c_str());
  std::vector<RolloutRow> rows;
  while (s.step())
    rows.push_back(rollout_from(s));
  return rows;
}

void FleetDatabase::set_rollout_state(const std::string& id, const std::string& state,
                                      const std::string& reason) {
  Statement s(db_, "UPDATE rollouts SET state = ?2, reason = ?3 WHERE id = ?1");
  s.bind(1, id).bind(2, state).bind(3, reason).step();
}

void FleetDatabase::start_wave(const std::string& id, int wave, int64_t now) {
  Statement s(db_, "UPDATE rollouts SET current_wave = ?2, wave_started_at = ?3 WHERE id = ?1");
  s.bind(1, id).bind(2, static_cast<int64_t>(wave)).bind(3, now).step();
}

std::vector<std::string> FleetDatabase::wave_targets(const std::string& rollout, int wave) {
  Statement s(db_, "SELECT device FROM targets WHERE rollout = ?1 AND wave = ?2 ORDER BY rowid");
  s.bind(1, rollout).bind(2, static_cast<int64_t>(wave));
  std::vector<std::string> devices;
  while (s.step())
    devices.push_back(s.text(0));
  return devices;
}

bool FleetDatabase::record_job(const JobRow& job) {
  Statement s(db_, "INSERT OR IGNORE INTO jobs (id, rollout, device, wave) VALUES (?1, ?2, ?3, ?4)");
  s.bind(1, job.id).bind(2, job.rollout).bind(3, job.device).bind(4, static_cast<int64_t>(job.wave)).step();
  return sqlite3_changes(db_) == 1;
}

void FleetDatabase::record_jobs(const std::vector<JobRow>& jobs) {
  in_transaction([&] {
    for (const JobRow& job : jobs)
      record_job(job);
  });
}

void FleetDatabase::mark_published(const std::string& job_id) {
  Statement s(db_, "UPDATE jobs SET published = 1 WHERE id = ?1");
  s.bind(1, job_id).step();
}

void FleetDatabase::mark_published(const std::vector<std::string>& job_ids) {
  in_transaction([&] {
    for (const std::string& id : job_ids)
      mark_published(id);
  });
}

void FleetDatabase::in_transaction(const std::function<void()>& work) {
  exec("BEGIN IMMEDIATE");
  try {
    work();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::vector<JobRow> FleetDatabase::jobs(const std::string& rollout) {
  Statement s(
      db_, fmt::format("SELECT {} FROM jobs WHERE rollout = ?1 ORDER BY wave, rowid", kJobColumns).c_str());
  s.bind(1, rollout);
  std::vector<JobRow> rows;
  while (s.step())
    rows.push_back(job_from(s));
  return rows;
}

std::optional<JobRow> FleetDatabase::job(const std::string& id) {
  Statement s(db_, fmt::format("SELECT {} FROM jobs WHERE id = ?1", kJobColumns).c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return job_from(s);
}

bool FleetDatabase::record_outcome(const std::string& job_id, const std::string& outcome,
                                   const std::string& reason) {
  Statement s(db_, "UPDATE jobs SET outcome = ?2, reason = ?3 WHERE id = ?1 AND outcome IS NULL");
  s.bind(1, job_id).bind(2, outcome).bind(3, reason).step();
  return sqlite3_changes(db_) == 1;
}

void FleetDatabase::record_step(const std::string& job_id, const std::string& step) {
  Statement s(db_, "UPDATE jobs SET step = ?2 WHERE id = ?1 AND outcome IS NULL");
  s.bind(1, job_id).bind(2, step).step();
}

int64_t FleetDatabase::open_job_count(const std::string& device) {
  Statement s(db_, "SELECT count(*) FROM jobs WHERE device = ?1 AND published = 1 AND outcome IS NULL");
  s.bind(1, device);
  return s.step() ? s.integer(0) : 0;
}

}  // namespace privota::tools
