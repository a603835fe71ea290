#include "device_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "bootloader.h"
#include "privota/host/device_protocol.h"
#include "privota/host/power_supply.h"
#include "privota/host/sandbox.h"
#include "run_requests.h"

namespace privota::sim {
namespace {

// The sandbox never degrades silently: what this kernel lacks is named once, with what follows from it.
void report_sandbox_support(LogView& log, const host::UserAppConfig& config) {
  const int abi = host::landlock_abi_version();
  const std::vector<std::string> missing = host::sandbox_missing_protections(abi);
  if (missing.empty()) return;
  std::string list;
  for (const std::string& m : missing)
    list += (list.empty() ? "" : "; ") + m;
  if (config.sandbox_allow_degraded)
    say(log, "warn", "sandbox_degraded",
        "the user app runs in a weaker sandbox (user_app.sandbox.allow_degraded): " + list,
        {{"landlock_abi", abi}, {"missing", missing}});
  else
    say(log, "error", "sandbox_unavailable",
        "no user app will start: this kernel lacks " + list +
            " (set user_app.sandbox.allow_degraded to accept)",
        {{"landlock_abi", abi}, {"missing", missing}});
}

// Shows the protected app's log until it exits; returns how it ended.
host::ExitStatus follow(host::Child& app, int log_fd, LogView& log) {
  fcntl(log_fd, F_SETFL, O_NONBLOCK);
  std::string pending;
  auto read_available = [&] {  // false at EOF: every writer is gone
    char buffer[8192];
    for (;;) {
      const ssize_t n = read(log_fd, buffer, sizeof buffer);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      pending.append(buffer, static_cast<size_t>(n));
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        log.line(pending.substr(0, newline));
        pending.erase(0, newline + 1);
      }
    }
  };
  for (;;) {
    pollfd p{log_fd, POLLIN, 0};
    (void)poll(&p, 1, 100);
    const bool open = read_available();
    const Result<host::ExitStatus> exit = app.wait(std::chrono::milliseconds(0));
    if (!open || (exit.is_ok() && !exit->running())) {
      (void)read_available();  // what it wrote just before it ended
      break;
    }
  }
  if (!pending.empty()) log.line(pending);
  const Result<host::ExitStatus> exit = app.wait(std::chrono::milliseconds(-1));
  return exit.is_ok() ? exit.value() : host::ExitStatus{host::ExitStatus::Kind::kExited, 127, 0};
}

}  // namespace

const char* sim_exit_name(SimExit exit) {
  switch (exit) {
    case SimExit::kHalted:
      return "halted";
    case SimExit::kUsage:
      return "bad_input";
    case SimExit::kNoBootableApp:
      return "no_bootable_app";
    case SimExit::kPowerCut:
      return "power_cut";
    case SimExit::kMaxBoots:
      return "max_boots";
    case SimExit::kUpdateNotDone:
      return "update_not_done";
    case SimExit::kNoPowerCut:
      return "no_power_cut";
    case SimExit::kCommandLine:
      return "command_line";
  }
  return "unknown";
}

SimExit run_device(const RunOptions& options) {
  LogView log(options.log, stdout);
  Result<host::PowerSupply> power = host::PowerSupply::create(options.power_cut_at);
  if (!power.is_ok()) {
    say(log, "error", "sim_error", std::string("cannot set up the power supply: ") + power.status().reason());
    return SimExit::kUsage;
  }
  log.set_write_counter(&power->state()->writes);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> events(nullptr, std::fclose);
  if (!options.events.empty()) {
    events.reset(std::fopen(options.events.c_str(), "a"));
    if (!events) {
      say(log, "error", "sim_error", "cannot open the events file " + options.events.string());
      return SimExit::kUsage;
    }
    log.set_events_file(events.get());
  }
  ProtectedUpdateWatch update;
  log.set_observer([&update](const nlohmann::json& e) { update.see(e); });
  Bootloader bootloader(options.flash, power.value(), log);
  host::DeviceConfig config = options.config;
  if (!options.user_args.empty()) config.user_app.args = options.user_args;
  report_sandbox_support(log, config.user_app);
  SimExit result = SimExit::kMaxBoots;
  uint32_t boot = 1;
  for (; boot <= options.max_boots; ++boot) {
    log.set_boot(static_cast<int>(boot));
    // The owner's protected-app update is a request for this power-on, not a setting of the device.
    config.protected_update_url = boot == 1 ? options.protected_update_url : "";
    say(log, "info", "power_on", "power on" + std::string(boot > 1 ? " (reboot)" : ""), {{"boot", boot}});
    BootResult started = bootloader.boot(config);
    if (started.kind == BootResult::Kind::kBadFlash) {
      result = SimExit::kUsage;
      break;
    }
    if (started.kind == BootResult::Kind::kNoBootableApp) {
      result = SimExit::kNoBootableApp;
      break;
    }
    if (started.kind == BootResult::Kind::kPowerCut) {
      result = SimExit::kPowerCut;
      break;
    }
    if (started.kind != BootResult::Kind::kStarted) {
      result = SimExit::kUsage;
      break;
    }
    const host::ExitStatus exit = follow(started.protected_app, started.log_fd, log);
    close(started.log_fd);
    if (exit.exited(host::kExitReboot)) continue;
    if (exit.exited(host::kExitHalt)) {
      result = SimExit::kHalted;
      break;
    }
    if (exit.exited(host::kExitPowerCut)) {
      say(log, "error", "power_cut", "power cut at flash write " + std::to_string(power->state()->writes),
          {{"write", power->state()->writes}});
      result = SimExit::kPowerCut;
      break;
    }
    if (exit.exited(host::kExitNoBootableUserApp)) {
      result = SimExit::kNoBootableApp;
      break;
    }
    if (exit.exited(host::kExitBadHandover)) {
      say(log, "error", "handover_failed", "the protected app refused its hand-over (see above)");
      result = SimExit::kUsage;
      break;
    }
    // A crashed protected app is a panic: the chip resets (and the bootloader may roll it back).
    say(log, "error", "protected_crashed",
        exit.kind == host::ExitStatus::Kind::kSignaled
            ? "the protected app was killed by signal " + std::to_string(exit.signal) + ": resetting"
            : "the protected app exited with code " + std::to_string(exit.code) + ": resetting",
        {{"code", exit.code}, {"signal", exit.signal}});
  }
  if (result == SimExit::kMaxBoots) {
    say(log, "warn", "max_boots",
        "stopped after " + std::to_string(options.max_boots) + " boots (--max-boots)");
  }
  result = check_requests(options, result, update, power->state()->writes, log);
  say(log, "info", "power_off", std::string("device off: ") + sim_exit_name(result),
      {{"result", sim_exit_name(result)},
       {"boots", boot > options.max_boots ? options.max_boots : boot},
       {"flash_writes", power->state()->writes}});
  return result;
}

}  // namespace privota::sim
