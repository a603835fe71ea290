// A device's fleet identity: its key and certificate (CN = device id) from the fleet CA, the CA certificate
// it trusts the broker by, and the `fleet` section of its device.json that names them (docs/fleet.md).
#pragma once

#include <string>

#include "fleet_directory.h"

namespace privota::tools {

// Makes DIR/devices/ID/{key.pem, cert.pem, ca_cert.pem, fleet.json}; fleet.json is the device.json `fleet`
// section, with absolute paths. Refuses an existing device unless `overwrite`. Returns the section's text.
std::string create_device_identity(const FleetDirectory& fleet, const std::string& id, bool overwrite);

// Makes DIR/controller/{key.pem, cert.pem} with CN = kControllerId.
void create_controller_identity(const FleetDirectory& fleet, bool overwrite);

}  // namespace privota::tools
