// privota-sim: runs a whole simulated device from its flash file — the bootloader, the protected app and
// the sandboxed user app as separate processes — through boots, updates, rollbacks and power cuts.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "device_runner.h"
#include "rv32_machine.h"

int main(int argc, char** argv) {
  using namespace privota;
  CLI::App app{
      "privota-sim: a simulated ESP device with privilege separation. Power on = the bootloader verifies "
      "and\n"
      "starts the protected app from ota_0/ota_1, which verifies and starts the user app from user_0/user_1\n"
      "in a sandbox and serves its system calls. A reboot starts the chain again; only the flash persists.\n"
      "\n"
      "Exit codes of `run`: 0 halted normally (the user app ended, nothing pending), 1 bad configuration or\n"
      "flash file (one line says why), 2 no bootable app (the log says why, per slot), 3 power cut (run "
      "again\n"
      "to power the device back on), 4 --max-boots reached, 5 halted but the --protected-update did not\n"
      "happen, 6 halted but --power-cut-at lay beyond the run's last flash write (no cut), 64 usage error\n"
      "(the command line is wrong)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("privota-sim ") + PRIVOTA_VERSION);
  sim::RunOptions options;
  std::string config_path;
  std::string log = "text";
  CLI::App* run = app.add_subcommand("run",
                                     "Power the device on and run it until it halts. Exit: 0 halted "
                                     "normally, 1 bad config/flash, 2 no bootable app, 3 power cut, 4 "
                                     "--max-boots reached, 5 --protected-update not done, 6 no power cut, "
                                     "64 usage");
  run->add_option("flash", options.flash, "the device's flash file (privota flash new ...)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--config", config_path, "device configuration (privota config new ...)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option(
      "--power-cut-at", options.power_cut_at,
      "cut the power during the N-th flash write (program or erase) of this run, counted over all "
      "boots and processes; the sim then exits 3 (6, with a warning, when the run ends before write N)");
  run->add_option("--max-boots", options.max_boots, "stop after this many boots (exit 4)")
      ->capture_default_str();
  run->add_option("--log", log, "text (for people) or json (one event per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  run->add_option("--events", options.events,
                  "also append every event as one JSON line to this file (with --log text: readable and "
                  "checkable at once)");
  run->add_option("--user-arg", options.user_args, "an argument for the user app (repeatable)")
      ->allow_extra_args(false);
  std::string machine = "host";
  sim::Rv32Machine rv32{"qemu-system-riscv32", PRIVOTA_RV32_DEFAULT_BOOTLOADER};
  run->add_option("--machine", machine,
                  "host (the firmware as Linux processes) or rv32 (QEMU virt runs the rv32 firmware; the sim "
                  "serves the flash over NBD and cuts the power)")
      ->check(CLI::IsMember({"host", "rv32"}))
      ->capture_default_str();
  run->add_option("--bootloader", rv32.bootloader, "--machine rv32: the bootloader ELF")
      ->capture_default_str();
  run->add_option("--net-forward", rv32.net_forward_port,
                  "--machine rv32: a network (QEMU user mode, restrict=on) whose only way out is the guest's "
                  "10.0.2.100:PORT to 127.0.0.1:PORT")
      ->check(CLI::Range(1, 65535));
  run->add_option("--qemu", rv32.qemu, "--machine rv32: the QEMU program")->capture_default_str();
  run->add_option(
      "--protected-update", options.protected_update_url,
      "the device owner asks the protected app to update itself from this URL on this power-on; "
      "exit 5 (with a warning) when it is refused, fails, or the new app does not confirm itself");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, as privota says a usage error.
    std::cerr << "privota-sim: " << e.what() << " (see --help)\n";
    return static_cast<int>(sim::SimExit::kCommandLine);
  }
  options.log = log == "json" ? sim::LogFormat::kJson : sim::LogFormat::kText;
  try {
    options.config = host::DeviceConfig::load(config_path);
  } catch (const host::ConfigError& e) {
    std::cerr << "privota-sim: " << config_path << ": " << e.what() << "\n";
    return static_cast<int>(sim::SimExit::kUsage);
  }
  if (machine != "rv32" && rv32.net_forward_port != 0) {
    std::cerr
        << "privota-sim: --net-forward is for --machine rv32 (the host device uses the host's network)\n";
    return static_cast<int>(sim::SimExit::kCommandLine);
  }
  if (machine == "rv32") {
    return static_cast<int>(sim::run_rv32_device(options, rv32));
  }
  return static_cast<int>(sim::run_device(options));
}
