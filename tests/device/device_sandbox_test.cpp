// The intruder user app inside the real sandbox the protected app puts it in: every escape attempt fails,
// the protected app keeps serving, and the flash file is byte for byte what it was.
#include <gtest/gtest.h>

#include "sim_device.h"

namespace privota::test {
namespace {

using nlohmann::json;

class DeviceSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("intruder", "1.0.0", 1));
  }

  // The intruder's report lines, sent through privota_log.
  static std::vector<std::string> reports(const SimRun& run) {
    std::vector<std::string> lines;
    for (const json& e : run.all("user_log"))
      lines.push_back(e["msg"]);
    return lines;
  }

  SimDevice device_;
};

TEST_F(DeviceSandbox, EveryEscapeAttemptIsBlockedAndFlashIsUnchanged) {
  const std::vector<uint8_t> before = read_file(device_.flash());
  const SimRun run = device_.run("--user-arg all --user-arg '" + device_.flash().string() + "'");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const std::vector<std::string> lines = reports(run);
  for (const char* what : {"open /etc/passwd", "open-rw " /* flash */, "open-ro ", "stat ", "socket AF_INET",
                           "connect ", "execve /bin/true", "ptrace attach parent", "kill parent", "fork x64",
                           "allocate", "garbage frames"}) {
    bool blocked = false;
    for (const std::string& line : lines)
      blocked = blocked || (line.rfind(std::string("BLOCKED ") + what, 0) == 0);
    EXPECT_TRUE(blocked) << what << " not reported blocked:\n" << run.output.substr(0, 20000);
  }
  for (const std::string& line : lines)
    EXPECT_EQ(line.rfind("ESCAPED", 0), std::string::npos) << line;
  const json exited = run.first("user_exited");
  EXPECT_EQ(exited["code"], 0) << "the intruder exits 0 only when every attempt was blocked";
  // Every size 0..1024 once, sizes 4.. again behind a valid header, and 14 frames with one bad field.
  EXPECT_EQ(exited["malformed_frames"], 1025 + 1021 + 14) << exited;
  EXPECT_FALSE(run.first("halt").is_null()) << "the protected app was still there to halt";
  EXPECT_EQ(read_file(device_.flash()), before) << "nothing the intruder did reached the flash";
}

// One attempt per run: a kill by seccomp (SIGSYS) would hide the attempts after it, so each runs alone.
TEST_F(DeviceSandbox, EachAttemptAloneIsBlocked) {
  for (const char* attempt :
       {"open-passwd", "socket", "connect", "exec", "ptrace", "kill", "fork-bomb", "alloc"}) {
    const SimRun run = device_.run(std::string("--user-arg ") + attempt);
    EXPECT_EQ(run.exit_code, 0) << attempt << "\n" << run.output;
    const std::vector<std::string> lines = reports(run);
    ASSERT_EQ(lines.size(), 1u) << attempt << "\n" << run.output;
    EXPECT_EQ(lines[0].rfind("BLOCKED", 0), 0u) << lines[0];
  }
}

}  // namespace
}  // namespace privota::test
