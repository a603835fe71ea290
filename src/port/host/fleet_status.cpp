#include "privota/host/fleet_status.h"

#include <nlohmann/json.hpp>

namespace privota::host {
namespace {

using nlohmann::json;

json app_json(const FleetAppState& app) {
  return {{"version", app.version}, {"secure_version", app.secure_version}, {"state", app.state}};
}

FleetAppState app_from(const json& doc) {
  return {doc.at("version").get<std::string>(), doc.at("secure_version").get<uint32_t>(),
          doc.at("state").get<std::string>()};
}

std::optional<FleetJobStep> step_by_name(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(FleetJobStep::kAwaitingConfirm); ++i) {
    if (name == fleet_job_step_name(static_cast<FleetJobStep>(i))) return static_cast<FleetJobStep>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string fleet_status_document(const FleetStatus& status) {
  json doc = {
      {"v", 1},
      {"device", status.device},
      {"apps",
       {{"protected", app_json(status.apps.protected_app)}, {"user", app_json(status.apps.user_app)}}},
      {"job", nullptr},
      {"last_job", nullptr}};
  if (status.job) {
    doc["job"] = {{"id", status.job->id},
                  {"level", fleet_level_name(status.job->level)},
                  {"state", fleet_job_step_name(status.job->step)}};
  }
  if (status.last_job) {
    doc["last_job"] = {{"id", status.last_job->job_id},
                       {"outcome", fleet_outcome_name(status.last_job->outcome)},
                       {"reason", status.last_job->reason}};
  }
  return doc.dump();
}

std::optional<FleetStatus> parse_fleet_status(const std::string& payload) {
  const json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("v", 0) != 1) return std::nullopt;
  try {
    FleetStatus status;
    status.device = doc.at("device").get<std::string>();
    status.apps.protected_app = app_from(doc.at("apps").at("protected"));
    status.apps.user_app = app_from(doc.at("apps").at("user"));
    if (const json& job = doc.at("job"); !job.is_null()) {
      const auto level = fleet_level_by_name(job.at("level").get<std::string>());
      const auto step = step_by_name(job.at("state").get<std::string>());
      if (!level || !step) return std::nullopt;
      status.job = FleetStatus::Job{job.at("id").get<std::string>(), *level, *step};
    }
    if (const json& last = doc.at("last_job"); !last.is_null()) {
      const auto outcome = fleet_outcome_by_name(last.at("outcome").get<std::string>());
      if (!outcome) return std::nullopt;
      status.last_job =
          FleetJobResult{last.at("id").get<std::string>(), *outcome, last.at("reason").get<std::string>()};
    }
    return status;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string fleet_progress_document(const FleetProgress& progress) {
  return json{{"v", 1},
              {"job_id", progress.job_id},
              {"phase", progress.phase},
              {"bytes", progress.bytes},
              {"total", progress.total}}
      .dump();
}

std::optional<FleetProgress> parse_fleet_progress(const std::string& payload) {
  const json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("v", 0) != 1) return std::nullopt;
  try {
    return FleetProgress{doc.at("job_id").get<std::string>(), doc.at("phase").get<std::string>(),
                         doc.at("bytes").get<uint64_t>(), doc.at("total").get<uint64_t>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace privota::host
