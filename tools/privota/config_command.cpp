// privota config new: writes a device configuration (device.json, see privota/host/device_config.h) — what
// the simulated device trusts (Secure Boot v2 key digests, the user-app CA, the TLS CA) and its OTA policy.
// The result is loaded back before it is written, so a file this command writes is one the sim accepts.
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "certificate_authority.h"
#include "commands.h"
#include "key_file.h"
#include "privota/host/device_config.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

struct ConfigOptions {
  std::string out, chip = "esp32c3", user_ca, tls_ca;
  std::vector<std::string> keys, key_digests, hosts;
  std::vector<uint32_t> ports;
  bool no_secure_boot = false, allow_http = false, force = false, allow_degraded_sandbox = false;
  uint32_t confirm_timeout_ms = 10000, crash_loop_limit = 3, boot_budget = 5, max_url_length = 256;
  uint32_t connect_timeout_ms = 5000, stall_timeout_ms = 10000, max_attempts = 4;
  uint32_t low_speed_bytes = 4096, low_speed_window_ms = 30000, job_deadline_ms = 30 * 60 * 1000;
};

std::string hex(const std::array<uint8_t, 32>& bytes) {
  std::string text;
  for (uint8_t b : bytes)
    text += fmt::format("{:02x}", b);
  return text;
}

// Paths as the file will hold them: relative to where the file is, so the directory can move.
std::string relative_to_output(const std::string& path, const std::filesystem::path& out) {
  const auto dir = std::filesystem::absolute(out).parent_path();
  return std::filesystem::relative(std::filesystem::absolute(path), dir).string();
}

void write_config(const ConfigOptions& o) {
  if (std::filesystem::exists(o.out) && !o.force)
    throw ToolError(fmt::format("'{}' exists; use --force to replace it", o.out));
  std::vector<std::string> digests = o.key_digests;
  for (const std::string& key : o.keys)
    digests.push_back(hex(tools::Key::load(key).sbv2_key_digest()));
  const std::filesystem::path ca = std::filesystem::is_directory(o.user_ca)
                                       ? std::filesystem::path(o.user_ca) / tools::kCaCertFile
                                       : std::filesystem::path(o.user_ca);
  nlohmann::json ota = {{"allowed_hosts", o.hosts},
                        {"allowed_ports", o.ports},
                        {"allow_http", o.allow_http},
                        {"max_url_length", o.max_url_length},
                        {"connect_timeout_ms", o.connect_timeout_ms},
                        {"stall_timeout_ms", o.stall_timeout_ms},
                        {"max_attempts", o.max_attempts},
                        {"low_speed_bytes", o.low_speed_bytes},
                        {"low_speed_window_ms", o.low_speed_window_ms},
                        {"job_deadline_ms", o.job_deadline_ms}};
  if (!o.tls_ca.empty()) ota["tls_ca"] = relative_to_output(o.tls_ca, o.out);
  const nlohmann::json j = {
      {"chip", o.chip},
      {"secure_boot", {{"enabled", !o.no_secure_boot}, {"key_digests", digests}}},
      {"user_app",
       {{"ca_cert", relative_to_output(ca.string(), o.out)},
        {"confirm_timeout_ms", o.confirm_timeout_ms},
        {"crash_loop_limit", o.crash_loop_limit},
        {"boot_budget", o.boot_budget},
        {"sandbox", {{"allow_degraded", o.allow_degraded_sandbox}}}}},
      {"ota", ota},
  };
  const std::string text = j.dump(2) + "\n";
  try {
    (void)host::DeviceConfig::parse(text, std::filesystem::absolute(o.out).parent_path());
  } catch (const host::ConfigError& e) {
    throw ToolError(fmt::format("the configuration would not load: {}", e.what()));
  }
  std::ofstream file(o.out, std::ios::trunc);
  if (!(file << text)) throw ToolError(fmt::format("cannot write '{}'", o.out));
  std::cout << fmt::format(
      "wrote {}: secure boot {}, {} trusted key(s), user-app CA {}, {} allowed host(s)\n", o.out,
      o.no_secure_boot ? "off" : "on", digests.size(), ca.string(), o.hosts.size());
}

}  // namespace

void add_config_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("config", "Device configurations for privota-sim (device.json)");
  group->require_subcommand(1);
  auto o = std::make_shared<ConfigOptions>();
  CLI::App* cmd = group->add_subcommand(
      "new", "Write a device configuration: what the device trusts and where it may fetch updates from");
  cmd->add_option("-o,--output", o->out, "device.json to write")->required();
  cmd->add_option("--key", o->keys, "Secure Boot v2: a trusted key (PEM); its digest goes in")
      ->allow_extra_args(false);
  cmd->add_option("--key-digest", o->key_digests, "Secure Boot v2: a trusted key digest (hex)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-secure-boot", o->no_secure_boot, "boot protected apps without a signature check");
  cmd->add_option("--user-ca", o->user_ca, "the user-app CA certificate (or `privota ca new` directory)")
      ->required();
  cmd->add_option("--tls-ca", o->tls_ca, "CA bundle (PEM) for the HTTPS update servers");
  cmd->add_option("--allow-host", o->hosts, "a host updates may come from (exact, *.suffix, or an IP)")
      ->allow_extra_args(false);
  cmd->add_option("--allow-port", o->ports, "a port updates may come from (default: 443 only)")
      ->allow_extra_args(false)
      ->check(CLI::Range(1, 65535));
  cmd->add_flag("--allow-http", o->allow_http, "also allow plain http:// (not recommended)");
  cmd->add_option("--chip", o->chip, "the device's chip")->capture_default_str();
  cmd->add_option("--confirm-timeout-ms", o->confirm_timeout_ms, "a trial user app must confirm within this")
      ->capture_default_str();
  cmd->add_option("--crash-loop-limit", o->crash_loop_limit, "restarts of a crashing valid user app per boot")
      ->capture_default_str();
  cmd->add_option("--boot-budget", o->boot_budget,
                  "reboots in a row caused by the user app before the device stays in the safe state "
                  "(user app not started); 0: never")
      ->capture_default_str();
  cmd->add_flag("--allow-degraded-sandbox", o->allow_degraded_sandbox,
                "start the user app even on a kernel that lacks part of the sandbox (landlock ABI < 6); "
                "the sim logs what is missing");
  cmd->add_option("--max-url-length", o->max_url_length, "longest URL accepted (1..479)")
      ->capture_default_str();
  cmd->add_option("--connect-timeout-ms", o->connect_timeout_ms, "OTA: connect timeout")
      ->capture_default_str();
  cmd->add_option("--stall-timeout-ms", o->stall_timeout_ms, "OTA: no data for this long fails the transfer")
      ->capture_default_str();
  cmd->add_option("--max-attempts", o->max_attempts, "OTA: transfers tried before the job fails")
      ->capture_default_str();
  cmd->add_option("--low-speed-bytes", o->low_speed_bytes,
                  "OTA: fewer bytes than this in --low-speed-window-ms fails the transfer (too_slow); 0: off")
      ->capture_default_str();
  cmd->add_option("--low-speed-window-ms", o->low_speed_window_ms, "OTA: the window of the low-speed limit")
      ->capture_default_str();
  cmd->add_option("--job-deadline-ms", o->job_deadline_ms,
                  "OTA: a job still running after this fails (job_deadline); 0: no deadline")
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] { write_config(*o); });
}

}  // namespace privota::cli
