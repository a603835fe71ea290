// The rv32 device as privota-sim runs it (--machine rv32): QEMU's `virt` machine is the CPU, the firmware
// (bootloader, protected firmware, user app) is the same as on the device, and the sim is the rest of the
// board: the power (--power-cut-at, through the flash it serves over NBD: nbd_flash_server.h), the eFuse and
// configuration block (from device.json), and the reboots (QEMU runs with -no-reboot, one process per boot;
// the firmware's reset ends it and the sim powers the next boot on). The console becomes the same events
// as the host device's (src, event, level, msg, boot, flash_writes), and the run ends with the same exit
// codes.
#pragma once

#include <filesystem>

#include "device_runner.h"

namespace privota::sim {

struct Rv32Machine {
  std::filesystem::path qemu = "qemu-system-riscv32";
  std::filesystem::path bootloader;  // bootloader.elf (the chip's ROM + second stage)
  // The network (--net-forward PORT): QEMU's user network with restrict=on and one guestfwd rule, the
  // guest's 10.0.2.100:PORT to the host's 127.0.0.1:PORT (through socat); 0: no NIC at all.
  uint16_t net_forward_port = 0;
};

SimExit run_rv32_device(const RunOptions& options, const Rv32Machine& machine);

}  // namespace privota::sim
