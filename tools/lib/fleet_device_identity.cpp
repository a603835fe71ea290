#include "fleet_device_identity.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "fleet_ca.h"
#include "tool_error.h"

namespace privota::tools {

std::string create_device_identity(const FleetDirectory& fleet, const std::string& id, bool overwrite) {
  check_device_id(id);
  const uint16_t port = fleet.broker_port();
  const FleetCa ca = FleetCa::load(fleet.ca());
  const auto dir = fleet.device(id);
  if (!overwrite && std::filesystem::exists(dir)) {
    throw ToolError(fmt::format("device '{}' already exists in '{}'; use --force to replace its identity", id,
                                fleet.root().string()));
  }
  ca.issue_client(id, kFleetValidityDays).save(dir, overwrite);
  const auto absolute = std::filesystem::canonical(dir);
  write_file_atomically(absolute / "ca_cert.pem", {ca.certificate_pem().begin(), ca.certificate_pem().end()});
  const nlohmann::json section = {
      {"broker", fmt::format("127.0.0.1:{}", port)},
      {"device_id", id},
      {"ca_cert", (absolute / "ca_cert.pem").string()},
      {"cert", (absolute / "cert.pem").string()},
      {"key", (absolute / "key.pem").string()},
      {"user_consent", false},
      {"offer_again_s", 300},
  };
  const std::string text = section.dump(2) + "\n";
  write_file_atomically(absolute / "fleet.json", {text.begin(), text.end()});
  return text;
}

void create_controller_identity(const FleetDirectory& fleet, bool overwrite) {
  fleet.broker_port();  // a fleet directory, or a clear error
  const FleetCa ca = FleetCa::load(fleet.ca());
  ca.issue_client(kControllerId, kFleetValidityDays).save(fleet.controller(), overwrite);
}

}  // namespace privota::tools
