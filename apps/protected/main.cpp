// The protected app of the host device. Started by the bootloader (privota-sim) from its verified image with
// exactly the fds of privota/host/device_protocol.h and
//   argv: protected --boot-slot N --secure-version N --version TEXT
// It is not meant to be run by hand: without its fds it exits with kExitBadHandover and says why.
#include <unistd.h>

#include <atomic>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "locked_flash.h"
#include "privota/host/device_config.h"
#include "privota/host/device_protocol.h"
#include "privota/host/event_log.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/power_cut_flash.h"
#include "privota/host/power_supply.h"
#include "protected_app.h"

namespace {

using namespace privota;

[[noreturn]] void bad_handover(const std::string& why) {
  std::cerr << "protected app: " << why << " (it is started by privota-sim's bootloader, not by hand)\n";
  std::exit(host::kExitBadHandover);
}

protected_app::Boot parse_args(int argc, char** argv) {
  protected_app::Boot boot;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--boot-slot") {
      boot.slot = static_cast<uint32_t>(std::stoul(value));
    } else if (flag == "--secure-version") {
      boot.secure_version = static_cast<uint32_t>(std::stoul(value));
    } else if (flag == "--version") {
      boot.version = value;
    } else {
      bad_handover("unknown argument " + flag);
    }
  }
  return boot;
}

std::string read_config(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()))) > 0)
    text.append(buffer, static_cast<size_t>(n));
  if (n < 0) bad_handover("cannot read the configuration fd");
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  protected_app::Boot boot;
  try {
    boot = parse_args(argc, argv);
  } catch (const std::exception&) {
    bad_handover("bad arguments");
  }
  host::EventLog log(host::kProtectedLogFd, "protected");
  host::DeviceConfig config;
  try {
    config = host::DeviceConfig::parse(read_config(host::kProtectedConfigFd), "/");
  } catch (const host::ConfigError& e) {
    bad_handover(std::string("configuration: ") + e.what());
  }
  Result<host::FileFlash> file = host::FileFlash::adopt(host::kProtectedFlashFd, {});
  if (!file.is_ok()) bad_handover(std::string("flash fd: ") + file.status().reason());
  Result<host::PowerSupply> power = host::PowerSupply::attach(host::kProtectedPowerFd);
  if (!power.is_ok()) bad_handover(std::string("power fd: ") + power.status().reason());
  log.set_write_counter(&power->state()->writes);
  // Every flash write of the device counts towards the sim's --power-cut-at; at the cut the process ends
  // on the spot, with the interrupted operation half done, like a chip losing power.
  host::PowerCutFlash cut(file.value(), &power->state()->writes, power->state()->cut_at,
                          power->state()->cut_at);
  static std::atomic<uint32_t> job_position{0};
  cut.on_power_cut([&log] {
    const uint32_t at = job_position.load();
    log.error("power_cut",
              "power cut during a flash write" +
                  (at > 0 ? " (the OTA job had received the image up to byte " + std::to_string(at) + ")"
                          : std::string()),
              {{"job_position", at}});
    _exit(host::kExitPowerCut);
  });
  protected_app::LockedFlash flash(cut);

  host::MbedMd5 md5;
  Result<PartitionTable> table = PartitionTable::read(flash, md5);
  if (!table.is_ok()) bad_handover(std::string("partition table: ") + table.status().reason());
  try {
    protected_app::ProtectedApp app(flash, table.value(), config, log, boot, &job_position);
    return app.run();
  } catch (const host::ConfigError& e) {
    log.error("bad_config", e.what());
    return host::kExitBadHandover;
  }
}
