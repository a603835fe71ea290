// privota-rv32-efuse DEVICE_JSON OUT: writes the rv32 device's eFuse block (privota/rv32/efuse_block.h) from
// a device configuration: what the chip would have burnt (Secure Boot v2 key digests, chip) and the
// protected firmware's configuration (user-app CA, confirm timeout, crash-loop limit, the user app's args,
// and the OTA service's network: ota.tls_ca, ota.allowed_hosts, ota.allowed_ports).
// QEMU places the file in RAM before reset (docs/rv32.md).
#include <cstdio>
#include <exception>
#include <fstream>
#include <vector>

#include "privota/host/device_config.h"
#include "privota/rv32/efuse_block.h"

int main(int argc, char** argv) {
  using namespace privota;
  if (argc != 3) {
    std::fprintf(stderr, "usage: privota-rv32-efuse DEVICE_JSON OUT\n");
    return 2;
  }
  try {
    const host::DeviceConfig config = host::DeviceConfig::load(argv[1]);
    // DeviceConfig::load already refused a chip the core's table does not know.
    rv32::EfuseBlock fields;
    fields.secure_boot = config.secure_boot.enabled;
    if (config.secure_boot.key_digests.size() > rv32::kEfuseMaxKeys) {
      std::fprintf(stderr, "privota-rv32-efuse: %s: more than 3 key digests\n", argv[1]);
      return 1;
    }
    fields.key_count = static_cast<uint8_t>(config.secure_boot.key_digests.size());
    for (size_t i = 0; i < fields.key_count; ++i)
      fields.keys[i] = config.secure_boot.key_digests[i];
    fields.chip_id = static_cast<uint16_t>(config.chip);
    fields.confirm_timeout_ms = config.user_app.confirm_timeout_ms;
    fields.crash_loop_limit = config.user_app.crash_loop_limit;
    std::vector<uint8_t> args;
    for (const std::string& arg : config.user_app.args)
      args.insert(args.end(), arg.c_str(), arg.c_str() + arg.size() + 1);
    fields.user_args = {args.data(), args.size()};
    // The network section: without a TLS CA the device refuses every OTA job.
    std::vector<uint8_t> hosts;
    for (const std::string& host : config.ota.allowed_hosts)
      hosts.insert(hosts.end(), host.c_str(), host.c_str() + host.size() + 1);
    fields.allowed_hosts = {hosts.data(), hosts.size()};
    if (config.ota.allowed_ports.size() > rv32::kEfuseMaxPorts) {
      std::fprintf(stderr, "privota-rv32-efuse: %s: more than 4 ota.allowed_ports\n", argv[1]);
      return 1;
    }
    fields.port_count = static_cast<uint8_t>(config.ota.allowed_ports.size());
    for (size_t i = 0; i < fields.port_count; ++i)
      fields.allowed_ports[i] = config.ota.allowed_ports[i];
    fields.tls_ca_pem = {reinterpret_cast<const uint8_t*>(config.ota.tls_ca_pem.data()),
                         config.ota.tls_ca_pem.size()};
    std::vector<uint8_t> block(rv32::kEfuseBlockSize);
    const auto* pem = reinterpret_cast<const uint8_t*>(config.user_app.ca_pem.data());
    const Status encoded =
        rv32::encode_efuse_block(fields, {pem, config.user_app.ca_pem.size()}, {block.data(), block.size()});
    if (!encoded.is_ok()) {
      std::fprintf(stderr, "privota-rv32-efuse: %s: %s\n", argv[1], encoded.reason());
      return 1;
    }
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    if (!out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size()))) {
      std::fprintf(stderr, "privota-rv32-efuse: cannot write %s\n", argv[2]);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "privota-rv32-efuse: %s: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
