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
#include "file_io.h"
#include "key_file.h"
#include "privota/host/chip_names.h"
#include "privota/host/device_config.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/redacted_url.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

// Defaults are the device's (host::DeviceConfig), so a setting left out means the same in both.
struct ConfigOptions {
  std::string out, user_ca, tls_ca, protected_update_url, chip = "esp32c3";
  std::vector<std::string> keys, key_digests, hosts, user_args;
  std::vector<uint32_t> ports;
  bool no_secure_boot = false, force = false;
  host::DeviceConfig defaults;
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

// What the device checks when it starts (protected_app::Trust) beyond the parser (which resolves the chip):
// the user-app CA as a CA.
void check_like_the_device(const host::DeviceConfig& config, const ConfigOptions& o) {
  const Result<host::MbedCertificateVerifier> ca =
      host::MbedCertificateVerifier::from_pem(config.user_app.ca_pem);
  if (ca.is_ok()) return;
  const bool key = config.user_app.ca_pem.find("PRIVATE KEY-----") != std::string::npos;
  throw ToolError(
      fmt::format("--user-ca '{}': {}{}", o.user_ca,
                  key ? "this is a private key, not the CA certificate" : ca.status().reason(),
                  "; give the CA certificate (ca/ca_cert.pem) or the `privota ca new` directory"));
}

void write_config(const ConfigOptions& o) {
  tools::OutputFile out{o.out, o.force, {o.user_ca, o.tls_ca}};
  out.inputs.insert(out.inputs.end(), o.keys.begin(), o.keys.end());
  tools::check_output(out);
  std::vector<std::string> digests = o.key_digests;
  for (const std::string& key : o.keys)
    digests.push_back(hex(tools::Key::load(key).sbv2_key_digest()));
  const std::filesystem::path ca = std::filesystem::is_directory(o.user_ca)
                                       ? std::filesystem::path(o.user_ca) / tools::kCaCertFile
                                       : std::filesystem::path(o.user_ca);
  const host::UserAppConfig& u = o.defaults.user_app;
  const host::OtaConfig& t = o.defaults.ota;
  nlohmann::json ota = {{"allowed_hosts", o.hosts},
                        {"allowed_ports", o.ports},
                        {"allow_http", t.allow_http},
                        {"max_url_length", t.max_url_length},
                        {"connect_timeout_ms", t.connect_timeout_ms},
                        {"stall_timeout_ms", t.stall_timeout_ms},
                        {"max_attempts", t.max_attempts},
                        {"first_backoff_ms", t.first_backoff_ms},
                        {"max_redirects", t.max_redirects},
                        {"low_speed_bytes", t.low_speed_bytes},
                        {"low_speed_window_ms", t.low_speed_window_ms},
                        {"job_deadline_ms", t.job_deadline_ms}};
  if (!o.tls_ca.empty()) ota["tls_ca"] = relative_to_output(o.tls_ca, o.out);
  nlohmann::json j = {
      {"chip", o.chip},
      {"secure_boot", {{"enabled", !o.no_secure_boot}, {"key_digests", digests}}},
      {"user_app",
       {{"ca_cert", relative_to_output(ca.string(), o.out)},
        {"confirm_timeout_ms", u.confirm_timeout_ms},
        {"crash_loop_limit", u.crash_loop_limit},
        {"boot_budget", u.boot_budget},
        {"memory_mib", u.memory_mib},
        {"cpu_seconds", u.cpu_seconds},
        {"args", o.user_args},
        {"sandbox", {{"allow_degraded", u.sandbox_allow_degraded}}}}},
      {"ota", ota},
  };
  if (!o.protected_update_url.empty()) j["protected_update_url"] = o.protected_update_url;
  const std::string text = j.dump(2) + "\n";
  // The device's own parser and start-up checks: a file written here is one the device accepts.
  try {
    check_like_the_device(host::DeviceConfig::parse(text, std::filesystem::absolute(o.out).parent_path()), o);
  } catch (const host::ConfigError& e) {
    throw ToolError(fmt::format("the configuration would not load: {}", e.what()));
  }
  tools::write_output(out, text);
  std::cout << fmt::format(
      "wrote {}: secure boot {}, {} trusted key(s), user-app CA {}, {} allowed host(s){}\n", o.out,
      o.no_secure_boot ? "off" : "on", digests.size(), ca.string(), o.hosts.size(),
      o.protected_update_url.empty()
          ? ""
          : ", protected update from " + host::redacted_url(o.protected_update_url));
}

}  // namespace

void add_config_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("config", "Device configurations for privota-sim (device.json)");
  group->require_subcommand(1);
  auto o = std::make_shared<ConfigOptions>();
  CLI::App* cmd = group->add_subcommand(
      "new",
      "Write a device configuration (device.json): what the device trusts and where it may fetch updates "
      "from. Every setting of the file has an option below (its name in the file first); the file is "
      "checked with the device's own parser before it is written");
  cmd->add_option("-o,--output", o->out, "device.json to write")->required();
  cmd->add_option("--key", o->keys, "secure_boot.key_digests: a trusted key (PEM); its digest goes in")
      ->allow_extra_args(false);
  cmd->add_option("--key-digest", o->key_digests, "secure_boot.key_digests: a trusted key digest (hex)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-secure-boot", o->no_secure_boot,
                "secure_boot.enabled = false: boot protected apps without a signature check");
  cmd->add_option("--user-ca", o->user_ca,
                  "user_app.ca_cert: the user-app CA certificate (or `privota ca new` directory)")
      ->required();
  cmd->add_option("--tls-ca", o->tls_ca, "ota.tls_ca: CA bundle (PEM) for the HTTPS update servers");
  cmd->add_option("--allow-host", o->hosts,
                  "ota.allowed_hosts: a host updates may come from (a name, *.suffix, an IPv4 address or "
                  "[IPv6]; no scheme, port or path)")
      ->allow_extra_args(false);
  cmd->add_option("--allow-port", o->ports,
                  "ota.allowed_ports: a port updates may come from (default: 443 only)")
      ->allow_extra_args(false)
      ->check(CLI::Range(1, 65535));
  host::DeviceConfig& d = o->defaults;
  cmd->add_flag("--allow-http", d.ota.allow_http,
                "ota.allow_http: also allow plain http:// (not recommended)");
  cmd->add_option("--chip", o->chip, "chip: the device's chip (" + host::chip_names() + ")")
      ->capture_default_str();
  cmd->add_option("--confirm-timeout-ms", d.user_app.confirm_timeout_ms,
                  "user_app.confirm_timeout_ms: a trial user app must confirm within this")
      ->capture_default_str();
  cmd->add_option("--crash-loop-limit", d.user_app.crash_loop_limit,
                  "user_app.crash_loop_limit: restarts of a crashing valid user app per boot")
      ->capture_default_str();
  cmd->add_option("--boot-budget", d.user_app.boot_budget,
                  "user_app.boot_budget: reboots in a row caused by the user app before the device stays in "
                  "the safe state (user app not started); 0: never")
      ->capture_default_str();
  cmd->add_option("--memory-mib", d.user_app.memory_mib,
                  "user_app.memory_mib: the user app's address-space limit (at least 16)")
      ->capture_default_str();
  cmd->add_option("--cpu-seconds", d.user_app.cpu_seconds,
                  "user_app.cpu_seconds: the user app's CPU time limit")
      ->capture_default_str();
  cmd->add_option("--user-arg", o->user_args, "user_app.args: an argument for the user app (repeat for more)")
      ->allow_extra_args(false);
  cmd->add_option("--max-url-length", d.ota.max_url_length,
                  "ota.max_url_length: longest URL accepted (1..479)")
      ->capture_default_str();
  cmd->add_option("--connect-timeout-ms", d.ota.connect_timeout_ms, "ota.connect_timeout_ms: connect timeout")
      ->capture_default_str();
  cmd->add_option("--stall-timeout-ms", d.ota.stall_timeout_ms,
                  "ota.stall_timeout_ms: no data for this long fails the transfer")
      ->capture_default_str();
  cmd->add_option("--max-attempts", d.ota.max_attempts,
                  "ota.max_attempts: transfers tried before the job fails")
      ->capture_default_str();
  cmd->add_option("--first-backoff-ms", d.ota.first_backoff_ms,
                  "ota.first_backoff_ms: wait before the second attempt (doubles each time, up to 4 s)")
      ->capture_default_str();
  cmd->add_option("--max-redirects", d.ota.max_redirects, "ota.max_redirects: redirects followed per attempt")
      ->capture_default_str();
  cmd->add_option("--low-speed-bytes", d.ota.low_speed_bytes,
                  "ota.low_speed_bytes: fewer bytes than this in --low-speed-window-ms fails the transfer "
                  "(too_slow); 0 (with a window of 0): off")
      ->capture_default_str();
  cmd->add_option("--low-speed-window-ms", d.ota.low_speed_window_ms,
                  "ota.low_speed_window_ms: the window of the low-speed limit")
      ->capture_default_str();
  cmd->add_option("--job-deadline-ms", d.ota.job_deadline_ms,
                  "ota.job_deadline_ms: a job still running after this fails (job_deadline); 0: no deadline")
      ->capture_default_str();
  cmd->add_flag("--allow-degraded-sandbox", d.user_app.sandbox_allow_degraded,
                "user_app.sandbox.allow_degraded: start the user app even on a kernel that lacks part of the "
                "sandbox (landlock ABI < 6); the sim logs what is missing");
  cmd->add_option("--protected-update-url", o->protected_update_url,
                  "protected_update_url: update the protected app from this URL at the next power-on");
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] { write_config(*o); });
}

}  // namespace privota::cli
