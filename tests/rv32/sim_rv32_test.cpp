// privota-sim --machine rv32: QEMU runs the rv32 firmware while the sim serves the flash over NBD, counts its
// writes across boots, cuts the power at one of them and reboots the machine (sim/rv32_machine.h). The
// same exit codes and JSON events as the host device; a power cut at every flash write of a first boot with
// its confirmation, and of a rollback, leaves a device that boots a user app.
#include "rv32_device.h"

namespace privota {
namespace {

struct SimRun {
  int exit_code = -1;
  std::string out;
  std::vector<nlohmann::json> events;

  // The events with these fields, in order.
  const nlohmann::json* find(const std::string& src, const std::string& needle) const {
    for (const nlohmann::json& e : events)
      if (e.value("src", "") == src && e.value("msg", "").find(needle) != std::string::npos) return &e;
    return nullptr;
  }
  // The first event of this name, as the host device names it.
  const nlohmann::json* named(const std::string& event) const {
    for (const nlohmann::json& e : events)
      if (e.value("event", "") == event) return &e;
    return nullptr;
  }
  const nlohmann::json& power_off() const { return events.back(); }
};

class Rv32Sim : public Rv32Device {
 protected:
  SimRun sim(const std::string& extra) {
    const fs::path events = dir_ / "events.jsonl";
    fs::remove(events);
    SimRun run;
    const test::CommandResult done = test::run_command(
        std::string("timeout 120 ") + PRIVOTA_SIM + " run " + flash_.string() + " --config " +
        (kDeviceDir / "device.json").string() + " --machine rv32 --bootloader " + PRIVOTA_RV32_BOOTLOADER +
        " --qemu " + PRIVOTA_QEMU_RV32 + " --events " + events.string() + " " + extra);
    run.exit_code = done.exit_code;
    run.out = done.out;
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);)
      run.events.push_back(nlohmann::json::parse(line));
    return run;
  }
};

TEST_F(Rv32Sim, RunsTheMachineWithTheHostDevicesEventsAndExitCodes) {
  const SimRun run = sim("");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_FALSE(run.events.empty());
  EXPECT_EQ(run.events.front()["event"], "power_on");
  EXPECT_EQ(run.events.front()["boot"], 1);
  const nlohmann::json* confirmed = run.find("user", "probe: confirmed");
  ASSERT_NE(confirmed, nullptr) << run.out;
  EXPECT_EQ((*confirmed)["event"], "console") << "the user app's own lines stay console lines";
  EXPECT_GT((*confirmed)["flash_writes"].get<int>(), 0) << "the confirmation wrote uotadata before it";
  // The firmware's lines that say what the host device says carry the host's event names and fields.
  const nlohmann::json* boot = run.named("boot");
  ASSERT_NE(boot, nullptr) << run.out;
  EXPECT_EQ((*boot)["src"], "bootloader");
  EXPECT_EQ((*boot)["slot"], 0);
  EXPECT_EQ((*boot)["project"], "protected");
  EXPECT_EQ((*boot)["version"], PRIVOTA_VERSION);
  const nlohmann::json* started = run.named("protected_started");
  ASSERT_NE(started, nullptr) << run.out;
  EXPECT_EQ((*started)["version"], (*boot)["version"]);
  const nlohmann::json* selected = run.named("user_selected");
  ASSERT_NE(selected, nullptr) << run.out;
  EXPECT_EQ((*selected)["project"], "probe");
  EXPECT_EQ((*selected)["version"], PRIVOTA_VERSION);
  EXPECT_EQ((*selected)["outcome"], "fallback") << "a factory flash: no uotadata entry yet";
  const nlohmann::json* user_started = run.named("user_started");
  ASSERT_NE(user_started, nullptr) << run.out;
  EXPECT_EQ((*user_started)["project"], "probe");
  EXPECT_EQ((*user_started)["slot"], (*selected)["slot"]);
  EXPECT_EQ((*user_started)["trial"], false);
  const nlohmann::json* user_confirmed = run.named("user_confirmed");
  ASSERT_NE(user_confirmed, nullptr) << run.out;
  EXPECT_EQ((*user_confirmed)["src"], "protected");
  EXPECT_GT((*user_confirmed)["flash_writes"].get<int>(), 0);
  const nlohmann::json* halt = run.named("halt");
  ASSERT_NE(halt, nullptr) << run.out;
  EXPECT_EQ((*halt)["reason"], "app_ended");
  EXPECT_EQ((*halt)["boot"], 1);
  EXPECT_EQ(run.power_off()["event"], "power_off");
  EXPECT_EQ(run.power_off()["result"], "halted");
  EXPECT_EQ(run.power_off()["boots"], 1);
}

TEST_F(Rv32Sim, RollbackRebootsTheMachineAndMaxBootsStopsALoop) {
  install_user_update("crasher");
  if (HasFatalFailure()) return;
  const SimRun rollback = sim("");
  EXPECT_EQ(rollback.exit_code, 0) << rollback.out;
  ASSERT_NE(rollback.find("protected", "trial of user_1 failed (trial_crashed)"), nullptr) << rollback.out;
  const nlohmann::json* on_trial = rollback.named("user_started");
  ASSERT_NE(on_trial, nullptr) << rollback.out;
  EXPECT_EQ((*on_trial)["project"], "crasher");
  EXPECT_EQ((*on_trial)["slot"], 1);
  EXPECT_EQ((*on_trial)["trial"], true);
  const nlohmann::json* crashed = rollback.named("user_exited");
  ASSERT_NE(crashed, nullptr) << rollback.out;
  EXPECT_EQ((*crashed)["crash"], true);
  EXPECT_EQ((*crashed)["level"], "warn");
  const nlohmann::json* trial_failed = rollback.named("trial_failed");
  ASSERT_NE(trial_failed, nullptr) << rollback.out;
  EXPECT_EQ((*trial_failed)["slot"], 1);
  EXPECT_EQ((*trial_failed)["reason"], "trial_crashed");
  const nlohmann::json* reboot = rollback.named("reboot");
  ASSERT_NE(reboot, nullptr) << rollback.out;
  EXPECT_EQ((*reboot)["reason"], "rollback");
  EXPECT_EQ((*reboot)["boot"], 1);
  const nlohmann::json* rolled_back = rollback.find("protected", "probe " PRIVOTA_VERSION ", rolled_back");
  ASSERT_NE(rolled_back, nullptr) << rollback.out;
  EXPECT_EQ((*rolled_back)["boot"], 2);
  EXPECT_EQ((*rolled_back)["event"], "user_selected");
  EXPECT_EQ((*rolled_back)["outcome"], "rolled_back");

  write_user_app("probe_fault");  // valid, faults every time: restarts, then a reboot, forever
  if (HasFatalFailure()) return;
  const SimRun loop = sim("--max-boots 2");
  EXPECT_EQ(loop.exit_code, 4) << loop.out;
  EXPECT_EQ(loop.power_off()["result"], "max_boots");
}

// The owner's request reaches the firmware; this device has no network, so it is refused with the reason
// and the device goes on (the jobs themselves: ota_device_test.cpp).
TEST_F(Rv32Sim, TheOwnersRequestWithoutANetworkIsRefusedAndTheDeviceGoesOn) {
  const SimRun run = sim("--protected-update https://127.0.0.1/x.bin");
  // The device halts normally; exit 5 says the update the command line asked for did not happen, and why.
  EXPECT_EQ(run.exit_code, 5) << run.out;
  const nlohmann::json* refused = run.find("protected", "protected-firmware update refused");
  ASSERT_NE(refused, nullptr) << run.out;
  EXPECT_EQ((*refused)["event"], "ota_refused");
  EXPECT_EQ((*refused)["app_level"], "protected");
  const nlohmann::json* not_done = run.named("protected_update_not_done");
  ASSERT_NE(not_done, nullptr) << run.out;
  EXPECT_NE((*not_done)["msg"].get<std::string>().find("url_host_not_allowed"), std::string::npos) << run.out;
  EXPECT_EQ(run.power_off()["result"], "update_not_done");
  EXPECT_EQ((*refused)["level"], "warn");
  // Its URL policy allows no host: the request is judged before anything else.
  EXPECT_EQ((*refused)["error"], "url_host_not_allowed");
}

// The exit codes that the host device's tests hold, on the rv32 machine too: 2 when no protected firmware
// verifies, 6 when --power-cut-at lies beyond the run's last flash write (a warning names the count).
TEST_F(Rv32Sim, NothingBootableAndACutThatNeverCameHaveTheirExitCodes) {
  const SimRun whole = sim("");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  const uint64_t writes = whole.power_off()["flash_writes"].get<uint64_t>();
  fs::copy_file(kDeviceDir / "flash.bin", flash_, fs::copy_options::overwrite_existing);
  const SimRun beyond = sim("--power-cut-at " + std::to_string(writes + 1000));
  EXPECT_EQ(beyond.exit_code, 6) << beyond.out;
  const nlohmann::json* missed = beyond.named("no_power_cut");
  ASSERT_NE(missed, nullptr) << beyond.out;
  EXPECT_EQ((*missed)["power_cut_at"], writes + 1000);
  EXPECT_GT((*missed)["writes"].get<uint64_t>(), 0u);
  EXPECT_EQ(beyond.power_off()["result"], "no_power_cut");

  damage("ota_0");
  damage("ota_1");
  const SimRun nothing = sim("");
  EXPECT_EQ(nothing.exit_code, 2) << nothing.out;
  EXPECT_EQ(nothing.power_off()["result"], "no_bootable_app");
}

TEST_F(Rv32Sim, BadOptionsAreRefused) {
  const SimRun update = sim("--protected-update https://127.0.0.1/" + std::string(480, 'x'));
  EXPECT_EQ(update.exit_code, 1);
  EXPECT_NE(update.out.find("--protected-update: the protected-update URL must be 1 to 479 bytes"),
            std::string::npos)
      << update.out;
  const test::CommandResult forward =
      test::run_command(std::string(PRIVOTA_SIM) + " run " + flash_.string() + " --config " +
                        (kDeviceDir / "device.json").string() + " --machine host --net-forward 8443");
  EXPECT_EQ(forward.exit_code, 64) << "a usage error";
  EXPECT_NE(forward.out.find("--net-forward is for --machine rv32"), std::string::npos) << forward.out;
  const SimRun port = sim("--net-forward 70000");
  EXPECT_EQ(port.exit_code, 64) << port.out;
  const SimRun machine = sim("--machine arm");
  EXPECT_EQ(machine.exit_code, 64) << machine.out;
}

TEST_F(Rv32Sim, PowerCutAtEveryWriteOfATrialWithItsConfirmationAndOfARollback) {
  for (const std::string app : {"hello", "crasher"}) {
    fs::copy_file(kDeviceDir / "flash.bin", flash_, fs::copy_options::overwrite_existing);
    install_user_update(app);
    if (HasFatalFailure()) return;
    const fs::path start = dir_ / "start.bin";
    fs::copy_file(flash_, start, fs::copy_options::overwrite_existing);
    const SimRun whole = sim("");
    ASSERT_EQ(whole.exit_code, 0) << whole.out;
    const int writes = whole.power_off()["flash_writes"].get<int>();
    ASSERT_GT(writes, 0) << app;
    for (int cut = 1; cut <= writes; ++cut) {
      fs::copy_file(start, flash_, fs::copy_options::overwrite_existing);
      const SimRun cut_run = sim("--power-cut-at " + std::to_string(cut));
      ASSERT_EQ(cut_run.exit_code, 3) << app << " cut " << cut << "\n" << cut_run.out;
      ASSERT_EQ(cut_run.power_off()["result"], "power_cut");
      const SimRun after = sim("");
      ASSERT_EQ(after.exit_code, 0) << app << " after a cut at write " << cut << "\n" << after.out;
      EXPECT_NE(after.find("protected", "halting: app_ended"), nullptr) << after.out;
      // hello, once confirmed, stays; crasher never does.
      if (app == "crasher") {
        EXPECT_EQ(after.find("user", "crasher: 1.0.0, slot"), nullptr) << after.out;
      }
    }
  }
}

}  // namespace
}  // namespace privota
