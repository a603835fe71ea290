// The boot chain end to end through privota-sim: bootloader -> protected app -> sandboxed user app, with
// trial, confirmation, rollback and restart decided by the real processes on a real flash file.
#include <gtest/gtest.h>

#include "sim_device.h"

namespace privota::test {
namespace {

using nlohmann::json;

class DeviceBoot : public ::testing::Test {
 protected:
  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("hello", "1.0.0", 1));
  }
  SimDevice device_;
};

TEST_F(DeviceBoot, FactoryFlashBootsProtectedAndUserAppV1) {
  const SimRun run = device_.run();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json boot = run.first("boot");
  EXPECT_EQ(boot["version"], "1.0.0");
  EXPECT_EQ(boot["project"], "protected");
  const json user = run.first("user_selected");
  EXPECT_EQ(user["version"], "1.0.0");
  EXPECT_EQ(user["slot"], 0);
  EXPECT_FALSE(run.first("user_started").is_null()) << run.output;
  EXPECT_FALSE(run.first("user_confirmed").is_null()) << run.output;
  EXPECT_FALSE(run.first("halt").is_null()) << run.output;
  EXPECT_EQ(run.boots(), 1);
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

TEST_F(DeviceBoot, NewUserImageIsTriedThenConfirmed) {
  device_.ota("user", device_.user_image("hello", "2.0.0", 2));
  const SimRun run = device_.run();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json user = run.first("user_selected");
  EXPECT_EQ(user["outcome"], "trial") << run.output;
  EXPECT_EQ(user["version"], "2.0.0");
  EXPECT_EQ(run.first("user_started")["trial"], true);
  EXPECT_EQ(run.first("user_confirmed")["secure_version"], 2);
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
  EXPECT_EQ(device_.show()["uotadata"]["secure_version_floor"], 2) << "confirming raised the floor";
}

TEST_F(DeviceBoot, CrasherOnTrialIsRolledBackToThePreviousApp) {
  ASSERT_EQ(device_.run().exit_code, 0);  // v1 confirms itself
  device_.ota("user", device_.user_image("crasher", "2.0.0", 1));
  const SimRun run = device_.run();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json failed = run.first("trial_failed", 1);
  ASSERT_FALSE(failed.is_null()) << run.output;
  EXPECT_NE(failed["reason"].get<std::string>().find("SIGSEGV"), std::string::npos) << failed;
  const json back = run.first("user_selected", 2);
  EXPECT_EQ(back["outcome"], "rolled_back") << run.output;
  EXPECT_EQ(back["version"], "1.0.0");
  EXPECT_EQ(back["rejected_slot"], 1);
  EXPECT_EQ(run.boots(), 2);
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

TEST_F(DeviceBoot, SleeperThatNeverConfirmsIsRolledBackAtTheDeadline) {
  device_.configure("--confirm-timeout-ms 700");
  ASSERT_EQ(device_.run().exit_code, 0);
  device_.ota("user", device_.user_image("sleeper", "2.0.0", 1));
  const SimRun run = device_.run();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json failed = run.first("trial_failed", 1);
  ASSERT_FALSE(failed.is_null()) << run.output;
  EXPECT_NE(failed["reason"].get<std::string>().find("did not call ota_mark_valid within 700 ms"),
            std::string::npos)
      << failed;
  EXPECT_TRUE(run.first("user_exited", 1).is_null()) << "it was still running when its time was up";
  EXPECT_EQ(run.first("user_selected", 2)["outcome"], "rolled_back");
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

TEST_F(DeviceBoot, ValidAppThatKeepsCrashingIsRestartedThenTheDeviceReboots) {
  // The intruder given no attempt exits 2 (usage) at once: a valid app that fails on every start.
  device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("intruder", "1.0.0", 1));
  device_.configure("--crash-loop-limit 2");
  const SimRun run = device_.run("--max-boots 2");
  EXPECT_EQ(run.exit_code, 4) << "max boots: " << run.output;
  EXPECT_EQ(run.boots(), 2);
  size_t restarts_in_boot_1 = 0;
  for (const json& e : run.all("user_restart"))
    restarts_in_boot_1 += e["boot"] == 1 ? 1 : 0;
  EXPECT_EQ(restarts_in_boot_1, 2u);
  EXPECT_EQ(run.first("crash_loop", 1)["crashes"], 3);
  EXPECT_TRUE(run.first("trial_failed").is_null()) << "a valid app is never rolled back for crashing";
}

TEST_F(DeviceBoot, ProtectedAppUpdateSwitchesOtadataAndLeavesTheUserApp) {
  device_.ota("user", device_.user_image("hello", "2.0.0", 2));
  ASSERT_EQ(device_.run().exit_code, 0);
  ASSERT_EQ(device_.running("user"), "2.0.0 valid");
  device_.ota("protected", device_.protected_image("2.0.0", 2));
  const SimRun run = device_.run();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json boot = run.first("boot");
  EXPECT_EQ(boot["outcome"], "trial");
  EXPECT_EQ(boot["version"], "2.0.0");
  EXPECT_EQ(boot["slot"], 1);
  EXPECT_FALSE(run.first("protected_confirmed").is_null()) << run.output;
  EXPECT_EQ(run.first("user_selected")["version"], "2.0.0");
  EXPECT_EQ(run.first("user_selected")["outcome"], "normal");
  EXPECT_EQ(device_.running("protected"), "2.0.0 valid");
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
}

TEST(DeviceBootFailures, NoVerifiableProtectedAppMeansNoBoot) {
  SimDevice device;
  device.make_flash(device.tampered(device.protected_image("1.0.0", 1)),
                    device.user_image("hello", "1.0.0", 1),
                    /*raw=*/true);
  const SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_FALSE(run.first("no_bootable_app").is_null()) << run.output;
  EXPECT_TRUE(run.first("user_started").is_null());
}

TEST(DeviceBootFailures, ProtectedAppSignedByAnotherKeyIsRefusedBySecureBoot) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("hello", "1.0.0", 1));
  // The device trusts a different key digest: the owner's image must not boot.
  device.configure("--key-digest " + std::string(64, 'a'), /*trust_owner=*/false);
  const SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.first("no_bootable_app")["msg"].get<std::string>().find("no protected app"),
            std::string::npos);
}

TEST(DeviceBootFailures, ProtectedAppStartedByHandRefusesWithoutItsHandOver) {
  // Without the bootloader's fds (flash, configuration, log, power) it does nothing and says why.
  const CommandResult run = run_command(std::string(PRIVOTA_DEVICE_DIR) + "/images/protected.elf </dev/null");
  EXPECT_EQ(run.exit_code, 67) << run.out;  // kExitBadHandover
  EXPECT_NE(run.out.find("started by privota-sim's bootloader"), std::string::npos) << run.out;
}

TEST(DeviceBootFailures, SimRefusesABadConfigurationWithAClearLine) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("hello", "1.0.0", 1));
  write_text(device.dir() / "device.json", R"({"chip": "esp32c3", "user_app": {"ca_cert": "nope.pem"}})");
  const SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("user_app.ca_cert: cannot read"), std::string::npos) << run.output;
  write_text(device.dir() / "device.json", R"({"chip": "esp32c3", "user_app": {}, "otaa": {}})");
  EXPECT_NE(device.run().output.find("unknown key 'otaa'"), std::string::npos);
  // An unknown chip is not "check nothing": the device does not start.
  write_text(device.dir() / "device.json", R"({"chip": "esp32c9", "user_app": {}})");
  const SimRun chip = device.run();
  EXPECT_EQ(chip.exit_code, 1);
  EXPECT_NE(chip.output.find("unknown chip 'esp32c9'; known: esp32, "), std::string::npos) << chip.output;
}

}  // namespace
}  // namespace privota::test
