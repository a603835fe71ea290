#include "privota/host/fleet_job.h"

#include <nlohmann/json.hpp>

namespace privota::host {
namespace {

using nlohmann::json;

constexpr size_t kMaxJobIdLength = 96;
constexpr size_t kMaxUrlLength = 1024;
constexpr size_t kMaxVersionLength = 31;  // esp_app_desc_t.version is char[32] with its NUL

// Thrown inside the parser only; parse_fleet_job_message turns it into kInvalid with the reason.
struct Invalid {
  std::string reason;
};

const json& required(const json& doc, const char* name) {
  const auto it = doc.find(name);
  if (it == doc.end()) throw Invalid{std::string("the job has no \"") + name + "\""};
  return *it;
}

std::string text_field(const json& doc, const char* name, size_t max_length) {
  const json& value = required(doc, name);
  if (!value.is_string()) throw Invalid{std::string("\"") + name + "\" must be a string"};
  const std::string text = value.get<std::string>();
  if (text.empty() || text.size() > max_length) {
    throw Invalid{std::string("\"") + name + "\" must be 1 to " + std::to_string(max_length) + " characters"};
  }
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) {
      throw Invalid{std::string("\"") + name + "\" holds a space or a character that is not printable ASCII"};
    }
  }
  return text;
}

bool is_lower_hex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void check_version(const json& doc) {
  const auto it = doc.find("v");
  if (it == doc.end() || !it->is_number_unsigned() || it->get<uint64_t>() != 1) {
    throw Invalid{"\"v\" must be 1 (this device speaks version 1 of the job document)"};
  }
}

void check_fields(const json& doc, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (const char* name : allowed)
      known = known || key == name;
    if (!known) throw Invalid{"unknown field \"" + key + "\""};
  }
}

FleetJob parse_job(const json& doc) {
  check_fields(doc, {"v", "job_id", "level", "url", "version", "size", "sha256"});
  FleetJob job;
  job.id = text_field(doc, "job_id", kMaxJobIdLength);
  if (!is_fleet_job_id(job.id)) throw Invalid{"\"job_id\" may hold only A-Z a-z 0-9 . _ -"};
  const json& level = required(doc, "level");
  const auto parsed_level = level.is_string() ? fleet_level_by_name(level.get<std::string>()) : std::nullopt;
  if (!parsed_level) throw Invalid{"\"level\" must be \"user\" or \"protected\""};
  job.level = *parsed_level;
  job.url = text_field(doc, "url", kMaxUrlLength);
  job.version = text_field(doc, "version", kMaxVersionLength);
  if (const auto size = doc.find("size"); size != doc.end()) {
    if (!size->is_number_unsigned() || size->get<uint64_t>() == 0 || size->get<uint64_t>() > UINT32_MAX) {
      throw Invalid{"\"size\" must be a whole number of bytes, 1 to 4294967295"};
    }
    job.size = size->get<uint32_t>();
  }
  if (const auto sha = doc.find("sha256"); sha != doc.end()) {
    if (!sha->is_string() || sha->get<std::string>().size() != 64 || !is_lower_hex(sha->get<std::string>())) {
      throw Invalid{"\"sha256\" must be 64 lower-case hex digits"};
    }
    job.sha256 = sha->get<std::string>();
  }
  return job;
}

}  // namespace

bool is_fleet_job_id(const std::string& id) {
  return !id.empty() && id.size() <= kMaxJobIdLength &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
             std::string::npos;
}

FleetJobMessage parse_fleet_job_message(const std::string& payload) {
  FleetJobMessage message;
  const json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    message.reason = "the job document is not a JSON object";
    return message;
  }
  const auto id = doc.find(doc.contains("cancel") ? "cancel" : "job_id");
  if (id != doc.end() && id->is_string() && is_fleet_job_id(id->get<std::string>())) {
    message.job_id = id->get<std::string>();
  }
  try {
    check_version(doc);
    if (doc.contains("cancel")) {
      check_fields(doc, {"v", "cancel"});
      if (message.job_id.empty()) throw Invalid{"\"cancel\" must be a job id"};
      message.kind = FleetJobMessage::Kind::kCancel;
      return message;
    }
    message.job = parse_job(doc);
    message.kind = FleetJobMessage::Kind::kJob;
  } catch (const Invalid& invalid) {
    message.kind = FleetJobMessage::Kind::kInvalid;
    message.reason = invalid.reason;
  }
  return message;
}

std::string fleet_job_document(const FleetJob& job) {
  json doc = {{"v", 1},
              {"job_id", job.id},
              {"level", fleet_level_name(job.level)},
              {"url", job.url},
              {"version", job.version}};
  if (job.size) doc["size"] = *job.size;
  if (job.sha256) doc["sha256"] = *job.sha256;
  return doc.dump();
}

std::string fleet_cancel_document(const std::string& job_id) {
  return json{{"v", 1}, {"cancel", job_id}}.dump();
}

const char* fleet_level_name(FleetLevel level) {
  return level == FleetLevel::kUser ? "user" : "protected";
}

std::optional<FleetLevel> fleet_level_by_name(const std::string& name) {
  if (name == "user") return FleetLevel::kUser;
  if (name == "protected") return FleetLevel::kProtected;
  return std::nullopt;
}

namespace {
constexpr struct {
  FleetOutcome outcome;
  const char* name;
} kOutcomeNames[] = {
    {FleetOutcome::kSucceeded, "SUCCEEDED"}, {FleetOutcome::kRolledBack, "ROLLED_BACK"},
    {FleetOutcome::kFailed, "FAILED"},       {FleetOutcome::kRejected, "REJECTED"},
    {FleetOutcome::kCanceled, "CANCELED"},
};
}  // namespace

const char* fleet_outcome_name(FleetOutcome outcome) {
  for (const auto& entry : kOutcomeNames)
    if (entry.outcome == outcome) return entry.name;
  return "?";
}

std::optional<FleetOutcome> fleet_outcome_by_name(const std::string& name) {
  for (const auto& entry : kOutcomeNames)
    if (name == entry.name) return entry.outcome;
  return std::nullopt;
}

}  // namespace privota::host
