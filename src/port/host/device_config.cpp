#include "privota/host/device_config.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "privota/chip.h"
#include "privota/host/chip_names.h"
#include "privota/host/redacted_url.h"
#include "privota/secure_boot_v2.h"
#include "privota/url_policy.h"

namespace privota::host {
namespace {

using nlohmann::json;

std::string read_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(what + ": cannot read '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Refuses keys the section does not know: a misspelt "allowed_host" must not leave the policy empty.
void only_keys(const json& object, const std::string& where, const std::set<std::string>& known) {
  if (!object.is_object()) throw ConfigError(where + " must be a JSON object");
  for (const auto& [key, value] : object.items()) {
    if (!known.count(key)) throw ConfigError(where + ": unknown key '" + key + "'");
  }
}

template <typename T>
void take(const json& object, const char* key, T& out, const std::string& where) {
  if (!object.contains(key)) return;
  try {
    out = object.at(key).get<T>();
  } catch (const json::exception&) {
    throw ConfigError(where + "." + key + " has the wrong type");
  }
}

void take_u32(const json& object, const char* key, uint32_t& out, const std::string& where) {
  if (!object.contains(key)) return;
  const json& v = object.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX)
    throw ConfigError(where + "." + key + " must be a non-negative integer");
  out = v.get<uint32_t>();
}

// The chip is resolved here, once: a device whose chip is unknown would not know which images it may run.
ChipId parse_chip(const json& j) {
  std::string name = "esp32c3";
  take(j, "chip", name, "device config");
  const ChipInfo* chip = chip_by_name(name.c_str());
  if (chip == nullptr)
    throw ConfigError("device config: unknown chip '" + name + "'; known: " + chip_names());
  return chip->id;
}

KeyDigest digest_from_hex(const std::string& text) {
  KeyDigest digest;
  if (text.size() != 64) throw ConfigError("secure_boot.key_digests: '" + text + "' is not 64 hex digits");
  for (size_t i = 0; i < 32; ++i) {
    unsigned value = 0;
    if (std::sscanf(text.substr(2 * i, 2).c_str(), "%2x", &value) != 1 ||
        !std::isxdigit(static_cast<unsigned char>(text[2 * i])) ||
        !std::isxdigit(static_cast<unsigned char>(text[2 * i + 1])))
      throw ConfigError("secure_boot.key_digests: '" + text + "' is not hex");
    digest.bytes[i] = static_cast<uint8_t>(value);
  }
  return digest;
}

std::string to_hex(const KeyDigest& digest) {
  static const char* kDigits = "0123456789abcdef";
  std::string text;
  for (uint8_t b : digest.bytes) {
    text += kDigits[b >> 4];
    text += kDigits[b & 15];
  }
  return text;
}

// A PEM given inline ("<name>_pem") or by path ("<name>", relative to base).
std::string pem(const json& object, const std::string& name, const std::filesystem::path& base,
                const std::string& where) {
  if (object.contains(name + "_pem")) {
    std::string text;
    take(object, (name + "_pem").c_str(), text, where);
    return text;
  }
  if (!object.contains(name)) return {};
  std::string path;
  take(object, name.c_str(), path, where);
  const std::filesystem::path file =
      std::filesystem::path(path).is_absolute() ? std::filesystem::path(path) : base / path;
  return read_file(file, where + "." + name);
}

void parse_secure_boot(const json& j, SecureBootConfig& out) {
  only_keys(j, "secure_boot", {"enabled", "key_digests"});
  take(j, "enabled", out.enabled, "secure_boot");
  std::vector<std::string> digests;
  take(j, "key_digests", digests, "secure_boot");
  for (const std::string& d : digests)
    out.key_digests.push_back(digest_from_hex(d));
  if (out.key_digests.size() > sbv2::kMaxBlocks)
    throw ConfigError("secure_boot.key_digests: at most 3 (eFuse has 3 key digest slots)");
  if (out.enabled && out.key_digests.empty())
    throw ConfigError("secure_boot is enabled but key_digests is empty: no protected app could boot");
}

void parse_user_app(const json& j, const std::filesystem::path& base, UserAppConfig& out) {
  only_keys(j, "user_app",
            {"ca_cert", "ca_cert_pem", "confirm_timeout_ms", "crash_loop_limit", "boot_budget", "memory_mib",
             "cpu_seconds", "args", "sandbox"});
  out.ca_pem = pem(j, "ca_cert", base, "user_app");
  if (out.ca_pem.empty()) throw ConfigError("user_app.ca_cert is missing: user apps could not be verified");
  take_u32(j, "confirm_timeout_ms", out.confirm_timeout_ms, "user_app");
  take_u32(j, "crash_loop_limit", out.crash_loop_limit, "user_app");
  take_u32(j, "boot_budget", out.boot_budget, "user_app");
  take_u32(j, "memory_mib", out.memory_mib, "user_app");
  take_u32(j, "cpu_seconds", out.cpu_seconds, "user_app");
  take(j, "args", out.args, "user_app");
  if (j.contains("sandbox")) {
    only_keys(j["sandbox"], "user_app.sandbox", {"allow_degraded"});
    take(j["sandbox"], "allow_degraded", out.sandbox_allow_degraded, "user_app.sandbox");
  }
  if (out.boot_budget > 255) {
    throw ConfigError(
        "user_app.boot_budget above 255: uotadata counts failed boots up to 255 (0 turns the "
        "budget off)");
  }
  if (out.memory_mib < 16) throw ConfigError("user_app.memory_mib below 16 would not even load a program");
}

void parse_ota(const json& j, const std::filesystem::path& base, OtaConfig& out) {
  only_keys(j, "ota",
            {"tls_ca", "tls_ca_pem", "allowed_hosts", "allowed_ports", "allow_http", "max_url_length",
             "connect_timeout_ms", "stall_timeout_ms", "max_attempts", "first_backoff_ms", "max_redirects",
             "low_speed_bytes", "low_speed_window_ms", "job_deadline_ms"});
  out.tls_ca_pem = pem(j, "tls_ca", base, "ota");
  take(j, "allowed_hosts", out.allowed_hosts, "ota");
  for (const std::string& host : out.allowed_hosts) {
    const Status valid = check_host_pattern({host.data(), host.size()});
    if (!valid.is_ok())
      throw ConfigError("ota.allowed_hosts: '" + redacted_url(host) + "': " + valid.reason());
  }
  std::vector<uint32_t> ports;
  take(j, "allowed_ports", ports, "ota");
  for (uint32_t p : ports) {
    if (p == 0 || p > 65535) throw ConfigError("ota.allowed_ports: " + std::to_string(p) + " is not a port");
    out.allowed_ports.push_back(static_cast<uint16_t>(p));
  }
  take(j, "allow_http", out.allow_http, "ota");
  take_u32(j, "max_url_length", out.max_url_length, "ota");
  take_u32(j, "connect_timeout_ms", out.connect_timeout_ms, "ota");
  take_u32(j, "stall_timeout_ms", out.stall_timeout_ms, "ota");
  take_u32(j, "max_attempts", out.max_attempts, "ota");
  take_u32(j, "first_backoff_ms", out.first_backoff_ms, "ota");
  take_u32(j, "max_redirects", out.max_redirects, "ota");
  take_u32(j, "low_speed_bytes", out.low_speed_bytes, "ota");
  take_u32(j, "low_speed_window_ms", out.low_speed_window_ms, "ota");
  take_u32(j, "job_deadline_ms", out.job_deadline_ms, "ota");
  if ((out.low_speed_bytes == 0) != (out.low_speed_window_ms == 0))
    throw ConfigError("ota.low_speed_bytes and ota.low_speed_window_ms are both 0 (no limit) or both set");
  if (out.max_attempts == 0) throw ConfigError("ota.max_attempts must be at least 1");
  if (out.max_url_length == 0 || out.max_url_length > 479)
    throw ConfigError("ota.max_url_length must be 1..479 (what one system-call frame carries)");
}

}  // namespace

DeviceConfig DeviceConfig::load(const std::filesystem::path& path) {
  return parse(read_file(path, "device config"), path.parent_path());
}

DeviceConfig DeviceConfig::parse(const std::string& json_text, const std::filesystem::path& base) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ConfigError(std::string("device config is not valid JSON: ") + e.what());
  }
  only_keys(j, "device config", {"chip", "secure_boot", "user_app", "ota", "fleet", "protected_update_url"});
  DeviceConfig config;
  config.chip = parse_chip(j);
  take(j, "protected_update_url", config.protected_update_url, "device config");
  if (j.contains("secure_boot")) parse_secure_boot(j["secure_boot"], config.secure_boot);
  if (!j.contains("user_app")) throw ConfigError("device config: user_app is missing");
  parse_user_app(j["user_app"], base, config.user_app);
  if (j.contains("ota")) parse_ota(j["ota"], base, config.ota);
  if (j.contains("fleet")) config.fleet = FleetConfig::parse(j["fleet"], base);
  return config;
}

std::string DeviceConfig::to_json() const {
  json digests = json::array();
  for (const KeyDigest& d : secure_boot.key_digests)
    digests.push_back(to_hex(d));
  json j = {
      {"chip", chip_name(static_cast<uint16_t>(chip))},
      {"secure_boot", {{"enabled", secure_boot.enabled}, {"key_digests", digests}}},
      {"user_app",
       {{"ca_cert_pem", user_app.ca_pem},
        {"confirm_timeout_ms", user_app.confirm_timeout_ms},
        {"crash_loop_limit", user_app.crash_loop_limit},
        {"boot_budget", user_app.boot_budget},
        {"memory_mib", user_app.memory_mib},
        {"cpu_seconds", user_app.cpu_seconds},
        {"args", user_app.args},
        {"sandbox", {{"allow_degraded", user_app.sandbox_allow_degraded}}}}},
      {"ota",
       {{"tls_ca_pem", ota.tls_ca_pem},
        {"allowed_hosts", ota.allowed_hosts},
        {"allowed_ports", ota.allowed_ports},
        {"allow_http", ota.allow_http},
        {"max_url_length", ota.max_url_length},
        {"connect_timeout_ms", ota.connect_timeout_ms},
        {"stall_timeout_ms", ota.stall_timeout_ms},
        {"max_attempts", ota.max_attempts},
        {"first_backoff_ms", ota.first_backoff_ms},
        {"max_redirects", ota.max_redirects},
        {"low_speed_bytes", ota.low_speed_bytes},
        {"low_speed_window_ms", ota.low_speed_window_ms},
        {"job_deadline_ms", ota.job_deadline_ms}}},
      {"protected_update_url", protected_update_url},
  };
  if (fleet) j["fleet"] = fleet->to_json();
  return j.dump();
}

}  // namespace privota::host
