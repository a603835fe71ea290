#include "privota/host/fleet_job_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace privota::host {
namespace {

using nlohmann::json;

constexpr const char* kStepNames[] = {"received", "offered", "deferred", "running", "awaiting_confirm"};

json result_json(const FleetJobResult& result) {
  return {{"id", result.job_id}, {"outcome", fleet_outcome_name(result.outcome)}, {"reason", result.reason}};
}

FleetJobResult result_from(const json& doc) {
  const auto outcome = fleet_outcome_by_name(doc.at("outcome").get<std::string>());
  if (!outcome) throw std::invalid_argument("outcome");
  return {doc.at("id").get<std::string>(), *outcome, doc.at("reason").get<std::string>()};
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

const char* fleet_job_step_name(FleetJobStep step) {
  return kStepNames[static_cast<size_t>(step)];
}

bool FleetJobRecord::knows(const std::string& id) const {
  return (job && job->id == id) || (last && last->job_id == id);
}

std::string FleetJobRecord::to_json() const {
  json doc = {{"v", 1}, {"job", nullptr}, {"last", nullptr}, {"unreported", json::array()}};
  if (job) {
    doc["job"] = json::parse(fleet_job_document(*job));
    doc["step"] = fleet_job_step_name(step);
  }
  if (last) doc["last"] = result_json(*last);
  for (const FleetJobResult& result : unreported)
    doc["unreported"].push_back(result_json(result));
  return doc.dump();
}

std::optional<FleetJobRecord> FleetJobRecord::from_json(const std::string& text) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("v", 0) != 1) return std::nullopt;
  try {
    FleetJobRecord record;
    if (!doc.at("job").is_null()) {
      const FleetJobMessage message = parse_fleet_job_message(doc.at("job").dump());
      if (message.kind != FleetJobMessage::Kind::kJob) return std::nullopt;
      record.job = message.job;
      const std::string step = doc.at("step").get<std::string>();
      bool found = false;
      for (size_t i = 0; i < std::size(kStepNames); ++i) {
        if (step == kStepNames[i]) {
          record.step = static_cast<FleetJobStep>(i);
          found = true;
        }
      }
      if (!found) return std::nullopt;
    }
    if (!doc.at("last").is_null()) record.last = result_from(doc.at("last"));
    for (const json& result : doc.at("unreported"))
      record.unreported.push_back(result_from(result));
    return record;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

FleetJobRecord FileFleetJobStore::load() {
  std::ifstream in(path_);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return FleetJobRecord::from_json(text.str()).value_or(FleetJobRecord{});
}

bool FileFleetJobStore::save(const FleetJobRecord& record) {
  const std::string text = record.to_json();
  if (text.size() > FleetJobRecord::kMaxEncodedSize) return false;
  const std::string temp = path_.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  ok = ok && ::rename(temp.c_str(), path_.c_str()) == 0;
  if (!ok) return false;
  // The rename is durable only once the directory is.
  const std::string dir = path_.has_parent_path() ? path_.parent_path().string() : ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return false;
  ok = ::fsync(dir_fd) == 0;
  ::close(dir_fd);
  return ok;
}

}  // namespace privota::host
