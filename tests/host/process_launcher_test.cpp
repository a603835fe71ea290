#include "privota/host/process_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "test_support.h"

namespace privota::host {
namespace {

using std::chrono::milliseconds;

const std::vector<uint8_t>& probe_image() {
  static const std::vector<uint8_t> image = test::read_file(PRIVOTA_SANDBOX_PROBE);
  return image;
}

LaunchOptions probe_options(std::vector<std::string> args) {
  LaunchOptions options;
  options.argv = {"sandbox_probe"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  return options;
}

ExitStatus wait_for(Child& child) {
  auto status = child.wait(milliseconds(20000));
  EXPECT_TRUE(status.is_ok());
  return *status;
}

TEST(ProcessLauncher, ReportsTheExitCode) {
  auto child = launch_from_memory(test::span_of(probe_image()), probe_options({"exit", "7"}));
  ASSERT_TRUE(child.is_ok()) << child.status().reason();
  EXPECT_GT(child->pid(), 0);
  EXPECT_TRUE(wait_for(*child).exited(7));
  EXPECT_TRUE(child->wait(milliseconds(0))->exited(7));  // asking again gives the same answer
}

TEST(ProcessLauncher, ReportsACrashAsItsSignal) {
  for (bool sandboxed : {false, true}) {
    LaunchOptions options = probe_options({"segv"});
    if (sandboxed) options.sandbox = SandboxPolicy{};
    auto child = launch_from_memory(test::span_of(probe_image()), options);
    ASSERT_TRUE(child.is_ok()) << child.status().reason();
    EXPECT_TRUE(wait_for(*child).signaled(SIGSEGV)) << "sandboxed=" << sandboxed;
  }
}

TEST(ProcessLauncher, WaitTimesOutOnASleeperAndKillEndsIt) {
  LaunchOptions options = probe_options({"sleep"});
  options.sandbox = SandboxPolicy{};
  auto child = launch_from_memory(test::span_of(probe_image()), options);
  ASSERT_TRUE(child.is_ok()) << child.status().reason();
  auto status = child->wait(milliseconds(200));
  ASSERT_TRUE(status.is_ok());
  EXPECT_TRUE(status->running());
  ASSERT_TRUE(child->kill().is_ok());
  EXPECT_TRUE(wait_for(*child).signaled(SIGKILL));
}

TEST(ProcessLauncher, DroppingTheChildKillsAndReapsIt) {
  pid_t pid;
  {
    auto child = launch_from_memory(test::span_of(probe_image()), probe_options({"sleep"}));
    ASSERT_TRUE(child.is_ok()) << child.status().reason();
    pid = child->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ProcessLauncher, HandsOverOnlyTheMappedFdsAtTheirNumbers) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  const int stray = dup(STDERR_FILENO);  // inheritable, not handed over
  LaunchOptions options = probe_options({"list-fds"});
  options.fds = {{pair[1], kChannelFd}};
  auto child = launch_from_memory(test::span_of(probe_image()), options);
  close(pair[1]);
  close(stray);
  ASSERT_TRUE(child.is_ok()) << child.status().reason();
  EXPECT_TRUE(wait_for(*child).exited(0));
  char buffer[64] = {};
  EXPECT_GT(recv(pair[0], buffer, sizeof buffer - 1, 0), 0);
  EXPECT_STREQ(buffer, "3");
  close(pair[0]);
}

TEST(ProcessLauncher, ReportsAnImageTheKernelCannotExecDistinctly) {
  const std::vector<uint8_t> not_elf = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'e', 'l', 'f', '\n'};
  auto child = launch_from_memory(test::span_of(not_elf), probe_options({}));
  ASSERT_FALSE(child.is_ok());
  EXPECT_EQ(child.status().code(), Code::kIoError);
  EXPECT_STREQ(child.status().reason(), "child could not exec the image");
  EXPECT_EQ(child.status().detail(), static_cast<uint32_t>(ENOEXEC));
}

TEST(ProcessLauncher, RejectsBadOptions) {
  LaunchOptions options = probe_options({"exit", "0"});
  options.fds = {{STDERR_FILENO, kLauncherFirstPrivateFd}};
  EXPECT_EQ(launch_from_memory(test::span_of(probe_image()), options).status().code(),
            Code::kInvalidArgument);
  options.fds = {{STDERR_FILENO, 3}, {STDOUT_FILENO, 3}};
  EXPECT_EQ(launch_from_memory(test::span_of(probe_image()), options).status().code(), Code::kDuplicate);
  options.fds = {};
  options.sandbox = SandboxPolicy{};
  options.sandbox->max_open_files = 1000;
  EXPECT_EQ(launch_from_memory(test::span_of(probe_image()), options).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(launch_from_memory({}, probe_options({})).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace privota::host
