// The rv32 device supervises its user app with the core's rules (docs/rv32.md, privota/supervisor.h): a
// trial app confirms itself or is rolled back — when it crashes (a U-mode fault), exits or misses its
// deadline — through a real machine reset; a valid app that faults is restarted, then the device reboots; a
// hang is caught by the CLINT-timer watchdog; and a hostile app's every attempt to leave its region faults or
// is refused while the device goes on.
#include "rv32_device.h"

namespace privota {
namespace {

TEST_F(Rv32Device, TrialUserAppConfirmsItselfAndIsNormalOnTheNextBoot) {
  install_user_update("hello");
  if (HasFatalFailure()) return;
  const test::CommandResult trial = boot();
  expect_lines(
      trial.out,
      {"protected: user_1: hello 1.0.0, trial", "from user_1 in U-mode, on trial: it must confirm itself",
       "user: hello: hello 1.0.0, slot user_1", "protected: the user app confirmed itself",
       "user: hello from 1.0.0", "protected: halting: app_ended"});
  EXPECT_EQ(trial.exit_code, 0) << trial.out;
  const test::CommandResult next = boot();
  expect_lines(next.out, {"protected: user_1: hello 1.0.0, normal", "user: hello from 1.0.0"});
  EXPECT_EQ(next.out.find("confirmed itself"), std::string::npos) << "nothing left to confirm\n" << next.out;
  EXPECT_EQ(next.exit_code, 0) << next.out;
}

TEST_F(Rv32Device, CrashingTrialIsRolledBackThroughARealMachineReset) {
  install_user_update("crasher");
  if (HasFatalFailure()) return;
  // No -no-reboot: the firmware's reset restarts the machine, which boots from ROM (the bootloader) again.
  const test::CommandResult run = power_on(kDeviceDir / "efuse.bin");
  expect_lines(run.out,
               {"bootloader: privota rv32", "protected: user_1: crasher 1.0.0, trial",
                "user: crasher: 1.0.0 on trial in slot user_1: crashing",
                "protected: user app fault 1: load access fault",
                "protected: trial of user_1 failed (trial_crashed): marked invalid, rolling back",
                "protected: rebooting: rollback", "bootloader: privota rv32",
                "protected: user_0: probe " PRIVOTA_VERSION ", rolled_back", "protected: gave up on user_1",
                "user: probe: confirmed", "protected: halting: app_ended"});
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, TrialThatNeverConfirmsIsRolledBackAtItsDeadline) {
  install_user_update("sleeper");
  if (HasFatalFailure()) return;
  const fs::path efuse = efuse_with({{"confirm_timeout_ms", 300}});
  const test::CommandResult trial = boot_with(efuse);
  expect_lines(trial.out,
               {"protected: user_1: sleeper 1.0.0, trial", "user: sleeper 1.0.0: sleeping, never confirming",
                "protected: trial of user_1 failed (trial_timeout): marked invalid, rolling back",
                "protected: rebooting: rollback"});
  const test::CommandResult next = boot_with(efuse);
  expect_lines(next.out,
               {"protected: user_0: probe " PRIVOTA_VERSION ", rolled_back", "user: probe: confirmed"});
  EXPECT_EQ(next.exit_code, 0) << next.out;
}

TEST_F(Rv32Device, ValidAppThatFaultsIsRestartedUpToTheLimitThenTheDeviceReboots) {
  // probe_fault confirms itself, then reads protected RAM: PMP stops it every time.
  write_user_app("probe_fault");
  if (HasFatalFailure()) return;
  const test::CommandResult run = boot();
  expect_lines(run.out, {"user: probe: reading protected RAM",
                         "protected: user app fault 1: load access fault mepc=0x8020", "mtval=0x80100000",
                         "protected: restarting the crashed user app (1 of 3 restarts)",
                         "protected: restarting the crashed user app (3 of 3 restarts)",
                         "protected: user app fault 4: load access fault",
                         "protected: this boot: 4 user app faults", "protected: rebooting: crash_loop"});
  EXPECT_EQ(run.out.find("marked invalid"), std::string::npos) << "a valid app is not rolled back\n"
                                                               << run.out;
  // The reboot keeps the selection: the same (valid) app runs again.
  const test::CommandResult next = boot();
  expect_lines(next.out, {"protected: user_0: probe_fault " PRIVOTA_VERSION ", normal"});
}

TEST_F(Rv32Device, HungAppIsCaughtByTheTimerWatchdog) {
  write_user_app("sleeper");
  if (HasFatalFailure()) return;
  const test::CommandResult run =
      boot_with(efuse_with({{"crash_loop_limit", 1}, {"args", {"--watchdog", "200"}}}));
  expect_lines(
      run.out,
      {"protected: started sleeper 1.0.0 from user_0", "protected: the user app confirmed itself",
       "user: sleeper: fed the watchdog three times, now starving it",
       "protected: the user app missed its watchdog feed: restarting it (1 of 1 restarts)",
       "user: sleeper: fed the watchdog three times, now starving it", "protected: rebooting: crash_loop"});
}

TEST_F(Rv32Device, IntruderEveryAttemptFaultsOrIsRefusedAndTheDeviceGoesOn) {
  write_user_app("intruder");
  if (HasFatalFailure()) return;
  // Each fault restarts the (valid) intruder, which goes on with its next attempt: the limit must allow
  // them all within one boot.
  const test::CommandResult run = boot_with(efuse_with({{"crash_loop_limit", 40}}));
  expect_lines(run.out,
               {"user: TRY 0 read protected RAM",
                "protected: user app fault 1: load access fault",
                "mtval=0x80100000",
                "user: TRY 1 write protected RAM",
                "store access fault",
                "user: TRY 2 read the flash device (virtio)",
                "load access fault",
                "mtval=0x10001000",
                "user: TRY 3 write the flash device (virtio)",
                "store access fault",
                "user: TRY 4 read the eFuse block",
                "load access fault",
                "mtval=0x80040000",
                "user: TRY 5 write the eFuse block",
                "store access fault",
                "user: TRY 6 read CLINT mtime",
                "load access fault",
                "user: TRY 7 write CLINT mtimecmp",
                "store access fault",
                "user: TRY 8 write the UART",
                "store access fault",
                "user: TRY 9 power off (test device)",
                "store access fault",
                "user: TRY 10 write pmpcfg0",
                "illegal instruction",
                "user: TRY 11 write pmpaddr0",
                "illegal instruction",
                "user: TRY 12 write mtvec",
                "illegal instruction",
                "user: TRY 13 read mstatus",
                "illegal instruction",
                "user: TRY 14 write mie",
                "illegal instruction",
                "user: TRY 15 mret",
                "illegal instruction",
                "user: TRY 16 jump into protected code",
                "instruction access fault",
                "user: TRY 17 illegal instruction",
                "illegal instruction",
                "user: TRY 18 misaligned load across the end of the user region",
                "load access fault",
                "user: TRY 19 wfi",
                "illegal instruction",
                "user: TRY 20 request frame in protected RAM",
                "protected: refused a system call whose frame is outside the user region",
                "user: BLOCKED system call with its request frame in protected RAM (out_of_bounds)",
                "user: TRY 21",
                "user: BLOCKED",
                "user: TRY 22",
                "user: BLOCKED",
                "user: TRY 23",
                "user: BLOCKED",
                "user: TRY 24 malformed frame",
                "protected: refused a malformed system-call frame",
                "user: BLOCKED malformed system-call frame",
                "user: TRY 25 unknown ecall",
                "user: BLOCKED unknown ecall (invalid_argument)",
                "user: intruder: done, 26 attempts, 0 escaped",
                "protected: this boot: 20 user app faults, 5 refused system calls, 1 malformed frames",
                "protected: halting: app_ended"});
  EXPECT_EQ(run.out.find("ESCAPED"), std::string::npos) << run.out;
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, EfuseToolRefusesUserAppArgumentsThatDoNotFit) {
  const std::string json = (dir_ / "big.json").string();
  std::ifstream in(kDeviceDir / "device.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["user_app"]["ca_cert"] = (kDeviceDir / "keys/ca/ca_cert.pem").string();
  config["user_app"]["args"] = {std::string(200, 'x')};
  std::ofstream(json) << config.dump();
  const test::CommandResult made = test::run_command(std::string(PRIVOTA_RV32_EFUSE_TOOL) + " " + json + " " +
                                                     (dir_ / "efuse.bin").string());
  EXPECT_EQ(made.exit_code, 1) << made.out;
  EXPECT_NE(made.out.find("the user app's arguments exceed 128 bytes"), std::string::npos) << made.out;
}

// The network section's limits: each setting that does not fit is named, and no block is written.
TEST_F(Rv32Device, EfuseToolRefusesANetworkSectionThatDoesNotFit) {
  struct Row {
    const char* what;
    nlohmann::json ota;
    const char* says;
  };
  std::vector<std::string> many_hosts;
  for (int i = 0; i < 20; ++i)
    many_hosts.push_back("update" + std::to_string(i) + ".example.org");  // 20 x ~20 bytes
  const Row rows[] = {
      {"five ports", {{"allowed_ports", {443, 444, 445, 446, 447}}}, "at most 4 ota.allowed_ports"},
      {"hosts over 256 bytes", {{"allowed_hosts", many_hosts}}, "the allowed hosts exceed 256 bytes"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    const std::string json = (dir_ / "net.json").string();
    const std::filesystem::path efuse = dir_ / "net-efuse.bin";
    std::ifstream in(kDeviceDir / "device.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["user_app"]["ca_cert"] = (kDeviceDir / "keys/ca/ca_cert.pem").string();
    // The section is written only with a TLS CA (without one the device refuses every job).
    config["ota"]["tls_ca"] = (kDeviceDir / "keys/ca/ca_cert.pem").string();
    for (const auto& [key, value] : row.ota.items())
      config["ota"][key] = value;
    std::ofstream(json) << config.dump();
    std::filesystem::remove(efuse);
    const test::CommandResult made =
        test::run_command(std::string(PRIVOTA_RV32_EFUSE_TOOL) + " " + json + " " + efuse.string());
    EXPECT_EQ(made.exit_code, 1) << made.out;
    EXPECT_NE(made.out.find(row.says), std::string::npos) << made.out;
    EXPECT_FALSE(std::filesystem::exists(efuse));
  }
}

}  // namespace
}  // namespace privota
