// privota-sim's own contract: what it asked of the device and did not happen is never "exit 0" (no power
// cut, a refused or failed --protected-update), a flash without a partition table is a bad flash file, and
// the command line is checked the way privota checks it (one `privota-sim: ...` line, exit 64, --version).
#include <gtest/gtest.h>

#include "sim_device.h"

namespace privota::test {
namespace {

using nlohmann::json;

std::string sim(const std::string& args) {
  return std::string(PRIVOTA_SIM) + " " + args;
}

// The lines a command printed (stdout and stderr together).
size_t line_count(const std::string& out) {
  size_t lines = 0;
  for (const char c : out)
    lines += c == '\n' ? 1 : 0;
  return lines;
}

class SimCommandLine : public ::testing::Test {
 protected:
  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("hello", "1.0.0", 1));
    device_.configure();
  }
  std::string flash_and_config() const {
    return "'" + device_.flash().string() + "' --config '" + (device_.dir() / "device.json").string() + "'";
  }
  SimDevice device_;
};

TEST_F(SimCommandLine, AFlashWithoutAPartitionTableIsABadFlashFile) {
  write_file(device_.flash(), std::vector<uint8_t>(4 << 20, 0xFF));  // erased: no table at 0x8000
  const SimRun run = device_.run();
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const json bad = run.first("bad_flash");
  ASSERT_FALSE(bad.is_null()) << run.output;
  EXPECT_NE(bad["msg"].get<std::string>().find("no valid partition table at 0x8000"), std::string::npos)
      << bad;
  EXPECT_NE(bad["msg"].get<std::string>().find("privota flash new"), std::string::npos) << bad;
  EXPECT_TRUE(run.first("no_bootable_app").is_null()) << "a wrong file is not a device whose apps failed";
  EXPECT_EQ(run.first("power_off")["result"], "bad_input");
}

TEST_F(SimCommandLine, APowerCutBeyondTheLastWriteSaysNoCutHappened) {
  const std::filesystem::path factory = device_.dir() / "factory.bin";
  std::filesystem::copy_file(device_.flash(), factory);
  auto power_on_factory = [&](const std::string& extra) {
    std::filesystem::copy_file(factory, device_.flash(), std::filesystem::copy_options::overwrite_existing);
    return device_.run(extra);
  };
  const SimRun whole = power_on_factory("");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const uint64_t writes = whole.first("power_off")["flash_writes"].get<uint64_t>();
  ASSERT_GT(writes, 0u) << "the first boot confirms the user app";
  const SimRun beyond = power_on_factory("--power-cut-at " + std::to_string(writes + 1));
  EXPECT_EQ(beyond.exit_code, 6) << beyond.output;
  const json missed = beyond.first("no_power_cut");
  ASSERT_FALSE(missed.is_null()) << beyond.output;
  EXPECT_EQ(missed["level"], "warn");
  EXPECT_EQ(missed["power_cut_at"], writes + 1);
  EXPECT_EQ(missed["writes"], writes);
  EXPECT_NE(missed["msg"].get<std::string>().find("no power cut happened"), std::string::npos) << missed;
  EXPECT_EQ(beyond.first("power_off")["result"], "no_power_cut");
  // The last write itself is cut: exit 3 and no warning.
  const SimRun cut = power_on_factory("--power-cut-at " + std::to_string(writes));
  EXPECT_EQ(cut.exit_code, 3) << cut.output;
  EXPECT_TRUE(cut.first("no_power_cut").is_null()) << cut.output;
}

TEST_F(SimCommandLine, ARefusedProtectedUpdateIsExit5WithAWarningThatSaysWhy) {
  ASSERT_EQ(device_.run().exit_code, 0);
  // Not on the allow-list (the configuration allows no host): the protected app refuses the request.
  const SimRun refused = device_.run("--protected-update https://updates.example.com/protected.bin");
  EXPECT_EQ(refused.exit_code, 5) << refused.output;
  const json warning = refused.first("protected_update_not_done");
  ASSERT_FALSE(warning.is_null()) << refused.output;
  EXPECT_EQ(warning["level"], "warn");
  EXPECT_NE(warning["msg"].get<std::string>().find("url_host_not_allowed"), std::string::npos) << warning;
  EXPECT_EQ(refused.first("power_off")["result"], "update_not_done");
}

TEST_F(SimCommandLine, UsageErrorsAreOneLineAndExit64) {
  for (const std::string& args : {std::string("run"), "run " + flash_and_config() + " --log xml",
                                  "run " + flash_and_config() + " --bogus",
                                  "run " + flash_and_config() + " --net-forward 8443", std::string("fly")}) {
    SCOPED_TRACE(args);
    const CommandResult result = run_command(sim(args));
    EXPECT_EQ(result.exit_code, 64) << result.out;
    EXPECT_EQ(result.out.rfind("privota-sim: ", 0), 0u) << result.out;
    EXPECT_EQ(line_count(result.out), 1u) << result.out;
  }
}

TEST(SimVersion, PrintsItsVersionAndTheHelpListsEveryExitCode) {
  const CommandResult version = run_command(sim("--version"));
  EXPECT_EQ(version.exit_code, 0) << version.out;
  EXPECT_EQ(version.out, std::string("privota-sim ") + PRIVOTA_VERSION + "\n");
  const CommandResult help = run_command(sim("--help"));
  EXPECT_EQ(help.exit_code, 0);
  for (const char* code :
       {"0 halted", "1 bad configuration", "2 no bootable", "3 power cut", "4 --max-boots",
        "5 halted but the --protected-update", "6 halted but --power-cut-at", "64 usage"}) {
    EXPECT_NE(help.out.find(code), std::string::npos) << code << "\n" << help.out;
  }
}

}  // namespace
}  // namespace privota::test
