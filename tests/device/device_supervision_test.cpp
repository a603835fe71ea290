// Supervision end to end through privota-sim: a user app that stops answering in ways a crash does not
// cover — it hangs up its channel and lingers, or it arms its watchdog and stops feeding it.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include "sim_device.h"
#include "test_support.h"

namespace privota::test {
namespace {

using nlohmann::json;

class DeviceSupervision : public ::testing::Test {
 protected:
  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("sleeper", "1.0.0", 1));
    device_.configure("--crash-loop-limit 2");
  }
  SimDevice device_;
};

// Before the fix a hung-up channel was reported by poll on every round: the protected app spun at 100 % CPU
// and the app was never counted as ended.
TEST_F(DeviceSupervision, AppThatHangsUpItsChannelIsEndedAsACrash) {
  rusage before{};
  getrusage(RUSAGE_CHILDREN, &before);
  const SimRun run = device_.run("--max-boots 1 --user-arg=--hangup");
  rusage after{};
  getrusage(RUSAGE_CHILDREN, &after);
  EXPECT_EQ(run.exit_code, 4) << "the crash loop reboots, --max-boots ends the run: " << run.output;
  EXPECT_EQ(run.count("user_hung_up"), 3u) << run.output;  // the first start and both restarts
  EXPECT_EQ(run.count("user_restart"), 2u);
  EXPECT_FALSE(run.first("crash_loop", 1).is_null()) << run.output;
  EXPECT_EQ(device_.running("user"), "1.0.0 valid") << "a valid app is never rolled back for crashing";
  const double cpu = static_cast<double>(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                     static_cast<double>(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6;
  EXPECT_LT(cpu, 5.0) << "the protected app spun on a hung-up channel";
}

TEST_F(DeviceSupervision, MissedWatchdogFeedRestartsAValidApp) {
  const SimRun run = device_.run("--max-boots 1 --user-arg=--watchdog --user-arg 300");
  EXPECT_EQ(run.exit_code, 4) << run.output;
  const std::vector<json> missed = run.all("user_watchdog");
  ASSERT_EQ(missed.size(), 2u) << run.output;
  EXPECT_EQ(missed[0]["crashes"], 1);
  EXPECT_FALSE(run.first("crash_loop", 1).is_null()) << run.output;
  EXPECT_TRUE(run.first("trial_failed").is_null());
}

// Before the budget, 246 MB of output reached the log in 7 s and the protected app grew to 44 MB.
TEST_F(DeviceSupervision, AFloodOfOutputIsCutToTheLogBudgetAndCounted) {
  const SimRun run = device_.run("--user-arg=--flood");
  EXPECT_EQ(run.exit_code, 0) << "the app ends normally and the device halts";
  size_t printed = 0;
  for (const json& e : run.all("user_output"))
    printed += e["msg"].get<std::string>().size();
  EXPECT_LE(printed, 64u * 1024 + 16u * 1024 * 10) << "more than the burst plus 10 s of rate";
  EXPECT_LT(run.count("user_log"), 5000u);
  uint64_t dropped_out = 0, dropped_log = 0;
  for (const json& e : run.all("user_log_dropped")) {
    if (e["source"] == "stdout") dropped_out += e["bytes"].get<uint64_t>();
    if (e["source"] == "log") dropped_log += e["lines"].get<uint64_t>();
  }
  EXPECT_EQ(printed + dropped_out, 8u * 1024 * 1023) << "every byte printed or counted as dropped";
  EXPECT_EQ(run.count("user_log") + dropped_log, 5000u) << "every log line printed or counted";
}

// A protected app on trial confirms itself only once it started a user app: one that cannot verify any (here
// the user slot was tampered with) never confirms, and once its trial boots (3) are used it is rolled back.
TEST(DeviceProtectedTrial, ProtectedUpdateThatCannotStartAUserAppIsRolledBack) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1),
                    device.tampered(device.user_image("hello", "1.0.0", 1)),
                    /*raw=*/true);
  device.ota("protected", device.protected_image("2.0.0", 2));
  SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << "no bootable user app: " << run.output;
  EXPECT_EQ(run.first("boot")["outcome"], "trial") << run.output;
  EXPECT_TRUE(run.first("protected_confirmed").is_null()) << "confirmed before any user app ran";
  // A boot that ends without a report is no evidence against the app (it could be a power cut): the trial
  // goes on for its remaining boots.
  for (int boot = 2; boot <= 3; ++boot) {
    run = device.run();
    EXPECT_EQ(run.first("boot")["outcome"], "trial") << "boot " << boot << ": " << run.output;
  }
  run = device.run();
  EXPECT_EQ(run.first("boot")["outcome"], "rolled_back") << run.output;
  EXPECT_EQ(run.first("boot")["version"], "1.0.0");
}

// The factory case: no user app was ever installed, so the protected app has nothing more to prove.
TEST(DeviceProtectedTrial, WithoutAnyUserAppInstalledTheProtectedAppConfirmsAtOnce) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("hello", "1.0.0", 1));
  // The same flash without the user app: a new table, only ota_0 written.
  const CommandResult fresh =
      run_command(device.cli() + " flash new --force --table " +
                  (std::filesystem::path(PRIVOTA_SOURCE_DIR) / "examples/device/partitions.csv").string() +
                  " --size 4MB -o " + device.flash().string());
  ASSERT_EQ(fresh.exit_code, 0) << fresh.out;
  const CommandResult written =
      run_command(device.cli() + " flash write " + device.flash().string() + " --partition ota_0 " +
                  device.protected_image("1.0.0", 1).string());
  ASSERT_EQ(written.exit_code, 0) << written.out;
  device.ota("protected", device.protected_image("2.0.0", 2));
  SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_FALSE(run.first("protected_confirmed").is_null()) << run.output;
  run = device.run();
  EXPECT_EQ(run.first("boot")["outcome"], "normal") << run.output;
  EXPECT_EQ(run.first("boot")["version"], "2.0.0");
}

// A valid user app that fails on every boot: sleeper --hangup confirms itself, hangs up and lingers, which
// counts as a crash; with crash_loop_limit 0 one crash reboots the device. Before the boot budget the device
// rebooted for ever (a flash write each time).
class DeviceBootBudget : public ::testing::Test {
 protected:
  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("sleeper", "1.0.0", 1));
    device_.configure("--crash-loop-limit 0");
  }
  static constexpr const char* kFailing = "--max-boots 20 --user-arg=--hangup";
  SimDevice device_;
};

TEST_F(DeviceBootBudget, AnAppThatFailsOnEveryBootPutsTheDeviceInTheSafeState) {
  const SimRun run = device_.run(kFailing);
  EXPECT_EQ(run.exit_code, 0) << "the device stays in the safe state and halts, no reboot loop: "
                              << run.output;
  EXPECT_EQ(run.count("user_started"), 5u) << run.output;
  EXPECT_EQ(run.count("crash_loop"), 5u);
  const json safe = run.first("safe_state");
  ASSERT_FALSE(safe.is_null()) << run.output;
  EXPECT_EQ(safe["failed_boots"], 5);
  EXPECT_EQ(safe["boot_budget"], 5);
  EXPECT_EQ(safe["last_failure"], "crash_loop");
  // The reason is on flash, for `privota flash show`.
  const json budget = device_.show()["uotadata"]["budget"];
  EXPECT_EQ(budget["failed_boots"], 5) << budget;
  EXPECT_EQ(budget["last_failure"], "crash_loop");
  EXPECT_EQ(budget["safe_state"], true);
  const CommandResult text = run_command(device_.cli() + " flash show " + device_.flash().string());
  EXPECT_NE(text.out.find("failed boots in a row: 5 (last: crash_loop): SAFE STATE"), std::string::npos)
      << text.out;
  // It stays there: the next power-on starts no user app either.
  const SimRun again = device_.run(kFailing);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.count("user_started"), 0u) << again.output;
  EXPECT_FALSE(again.first("safe_state").is_null());
  // A new user image from the owner ends it: the streak is over, the new app gets its trial.
  device_.ota("user", device_.user_image("hello", "2.0.0", 2));
  const SimRun fixed = device_.run();
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_TRUE(fixed.first("safe_state").is_null()) << fixed.output;
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
  EXPECT_EQ(device_.show()["uotadata"]["budget"]["failed_boots"], 0);
}

TEST_F(DeviceBootBudget, TheBudgetComesFromDeviceJson) {
  device_.configure("--crash-loop-limit 0 --boot-budget 2");
  const SimRun run = device_.run(kFailing);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.count("user_started"), 2u) << run.output;
  EXPECT_EQ(run.first("safe_state")["boot_budget"], 2) << run.output;
}

// A power cut at any write while failed boots are recorded (the failed-boot marks, the confirmation's
// selection write that carries the budget record) loses no count already made: the device still reaches
// the safe state, with at most one more start of the failing app (the one whose mark was cut).
TEST_F(DeviceBootBudget, APowerCutWhileRecordingAFailedBootLosesNothing) {
  device_.configure("--crash-loop-limit 0 --boot-budget 3");  // fewer boots per run: 7 cuts, 2 runs each
  const std::filesystem::path factory = device_.dir() / "factory.bin";
  std::filesystem::copy_file(device_.flash(), factory);
  const SimRun reference = device_.run(kFailing);
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  // The writes of the budget: the first boot's confirmation (a selection write: erase, floor record,
  // budget record, entry) and each crash loop's failed-boot mark (the write right after the event).
  std::vector<uint32_t> cuts;
  const uint32_t first = reference.first("user_started").value("flash_writes", 0u);
  for (uint32_t w = first + 1; w <= first + 4; ++w)
    cuts.push_back(w);
  for (const json& e : reference.all("crash_loop"))
    cuts.push_back(e.value("flash_writes", 0u) + 1);
  ASSERT_EQ(cuts.size(), 7u);
  for (const uint32_t cut : cuts) {
    SCOPED_TRACE("power cut at flash write " + std::to_string(cut));
    std::filesystem::copy_file(factory, device_.flash(), std::filesystem::copy_options::overwrite_existing);
    const SimRun cut_run = device_.run(std::string(kFailing) + " --power-cut-at " + std::to_string(cut));
    ASSERT_EQ(cut_run.exit_code, 3) << cut_run.output;
    const uint32_t counted = device_.show()["uotadata"]["budget"]["failed_boots"].get<uint32_t>();
    EXPECT_GE(counted + 1, cut_run.count("crash_loop")) << "a count made before the cut was lost";
    const SimRun after = device_.run(kFailing);
    EXPECT_EQ(after.exit_code, 0) << after.output;
    EXPECT_FALSE(after.first("safe_state").is_null()) << after.output;
    EXPECT_LE(cut_run.count("user_started") + after.count("user_started"), 4u);
    EXPECT_EQ(device_.show()["uotadata"]["budget"]["failed_boots"], 3);
  }
}

}  // namespace
}  // namespace privota::test
