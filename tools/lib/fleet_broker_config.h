// The fleet broker's configuration for Debian's mosquitto (2.0): one TLS listener on 127.0.0.1 that accepts
// only clients with a certificate from the fleet CA, takes the certificate's CN as the user name, and an ACL
// by which a device reads only its job topic and writes only its own status, progress and presence, and only
// the controller writes jobs (docs/fleet.md). Run it with `mosquitto -c DIR/mosquitto.conf`.
#pragma once

#include <filesystem>
#include <string>

#include "fleet_directory.h"

namespace privota::tools {

// The ACL file's text for mosquitto's acl_file.
std::string fleet_acl();

// Writes DIR/mosquitto.conf, DIR/acl, DIR/ca.pem, DIR/server.pem, DIR/server.key (a new broker identity from
// the fleet's CA) and DIR/data/ (retained messages survive a broker restart). Paths in the configuration are
// absolute. Refuses a DIR with a mosquitto.conf unless `overwrite`. Throws ToolError.
void write_broker_config(const FleetDirectory& fleet, const std::filesystem::path& dir, bool overwrite);

}  // namespace privota::tools
