// The rv32 device's eFuse block (privota/rv32/efuse_block.h) from a device configuration, on the host: what
// the chip would have burnt (Secure Boot v2 key digests, chip) and the protected firmware's configuration
// (user-app CA, confirm timeout, crash-loop limit, the user app's args, and the OTA service's network:
// ota.tls_ca, ota.allowed_hosts, ota.allowed_ports). privota-rv32-efuse and privota-sim --machine rv32 both
// write it with this.
#pragma once

#include <cstdint>
#include <vector>

#include "privota/host/device_config.h"
#include "privota/status.h"

namespace privota::rv32 {

// `block` becomes kEfuseBlockSize bytes; an error says which setting does not fit the block.
Status efuse_block_from_config(const host::DeviceConfig& config, std::vector<uint8_t>& block);

}  // namespace privota::rv32
