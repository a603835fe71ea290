// privota-rv32-efuse DEVICE_JSON OUT: writes the rv32 device's eFuse block (privota/rv32/efuse_block.h) from
// a device configuration: what the chip would have burnt (Secure Boot v2 key digests, chip) and the
// protected firmware's configuration (user-app CA, confirm timeout, crash-loop limit, the user app's args,
// and the OTA service's network: ota.tls_ca, ota.allowed_hosts, ota.allowed_ports).
// QEMU places the file in RAM before reset (docs/rv32.md).
#include <cstdio>
#include <exception>
#include <fstream>
#include <vector>

#include "efuse_from_config.h"
#include "privota/host/device_config.h"

int main(int argc, char** argv) {
  using namespace privota;
  if (argc != 3) {
    std::fprintf(stderr, "usage: privota-rv32-efuse DEVICE_JSON OUT\n");
    return 2;
  }
  try {
    const host::DeviceConfig config = host::DeviceConfig::load(argv[1]);
    // DeviceConfig::load already refused a chip the core's table does not know.
    std::vector<uint8_t> block;
    const Status encoded = rv32::efuse_block_from_config(config, block);
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
