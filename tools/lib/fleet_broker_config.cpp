#include "fleet_broker_config.h"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "file_io.h"
#include "fleet_ca.h"
#include "key_file.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, {text.begin(), text.end()});
}

// mosquitto started as root drops to the user "mosquitto", which could not read a key only its owner may
// read; naming the user who made the files keeps the broker able to read them, as root or not.
std::string current_user() {
  const passwd* entry = getpwuid(geteuid());
  if (entry == nullptr) throw ToolError("cannot find the name of the current user");
  return entry->pw_name;
}

std::string mosquitto_conf(const std::filesystem::path& dir, uint16_t port) {
  return fmt::format(
      "# The privota fleet broker (docs/fleet.md), written by `privota fleet broker-config`.\n"
      "# Loopback only; every client authenticates with a certificate from the fleet CA.\n"
      "per_listener_settings false\n"
      "allow_anonymous false\n"
      "user {user}\n"
      "persistence true\n"
      "persistence_location {dir}/data/\n"
      "log_dest stderr\n"
      "log_type error\n"
      "log_type warning\n"
      "log_type notice\n"
      "connection_messages true\n"
      "acl_file {dir}/acl\n"
      "\n"
      "listener {port} 127.0.0.1\n"
      "protocol mqtt\n"
      "tls_version tlsv1.2\n"
      "cafile {dir}/ca.pem\n"
      "certfile {dir}/server.pem\n"
      "keyfile {dir}/server.key\n"
      "require_certificate true\n"
      "use_identity_as_username true\n",
      fmt::arg("user", current_user()), fmt::arg("dir", dir.string()), fmt::arg("port", port));
}

}  // namespace

std::string fleet_acl() {
  return fmt::format(
      "# Who may read and write which topic (docs/fleet.md). The user name is the client certificate's CN.\n"
      "user {}\n"
      "topic write privota/+/job\n"
      "topic read privota/+/status\n"
      "topic read privota/+/progress\n"
      "topic read privota/+/presence\n"
      "\n"
      "# Every device, by its own id only.\n"
      "pattern read privota/%u/job\n"
      "pattern write privota/%u/status\n"
      "pattern write privota/%u/progress\n"
      "pattern write privota/%u/presence\n",
      kControllerId);
}

void write_broker_config(const FleetDirectory& fleet, const std::filesystem::path& output, bool overwrite) {
  const uint16_t port = fleet.broker_port();
  const FleetCa ca = FleetCa::load(fleet.ca());
  std::error_code error;
  std::filesystem::create_directories(output / "data", error);
  if (error) throw ToolError(fmt::format("cannot create '{}': {}", output.string(), error.message()));
  const std::filesystem::path dir = std::filesystem::canonical(output);
  if (!overwrite && std::filesystem::exists(dir / "mosquitto.conf")) {
    throw ToolError(
        fmt::format("'{}' already holds a broker configuration; use --force to replace it", dir.string()));
  }
  const Identity broker = ca.issue_broker(kFleetValidityDays);
  write_secret_file({dir / "server.key", true, {}}, broker.key_pem);
  write_text(dir / "server.pem", broker.cert_pem);
  write_text(dir / "ca.pem", ca.certificate_pem());
  write_text(dir / "acl", fleet_acl());
  write_text(dir / "mosquitto.conf", mosquitto_conf(dir, port));
}

}  // namespace privota::tools
