#include "privota/host/sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "privota/host/process_launcher.h"
#include "test_support.h"

namespace privota::host {
namespace {

using std::chrono::seconds;

constexpr int kRefused = 10;  // sandbox_probe's exit code for "the call failed"

const std::vector<uint8_t>& probe_image() {
  static const std::vector<uint8_t> image = test::read_file(PRIVOTA_SANDBOX_PROBE);
  return image;
}

// One run of the probe in the sandbox, with a SOCK_SEQPACKET channel at fd 3 like a user app.
struct ProbeRun {
  ExitStatus status;
  std::string said;  // the probe's line on the channel
};

ProbeRun run_probe(const std::vector<std::string>& args, SandboxPolicy policy = {},
                   const std::string& to_probe = "") {
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  LaunchOptions options;
  options.argv = {"sandbox_probe"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.fds = {{pair[1], kChannelFd}};
  options.sandbox = policy;
  auto child = launch_from_memory(test::span_of(probe_image()), options);
  close(pair[1]);
  ProbeRun run;
  EXPECT_TRUE(child.is_ok()) << child.status().reason() << " " << child.status().detail();
  if (child.is_ok()) {
    if (!to_probe.empty()) {
      EXPECT_GT(send(pair[0], to_probe.data(), to_probe.size(), 0), 0);
    }
    // Only bounds a probe that never ends: one second of CPU can take many seconds of wall time on a loaded
    // machine (CpuLimitEndsASpinningApp ran out of 20 s under a load of 25 on 2 cores).
    auto status = child->wait(std::chrono::milliseconds(60000));
    EXPECT_TRUE(status.is_ok());
    run.status = *status;
    char buffer[512];
    const ssize_t n = recv(pair[0], buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) run.said.assign(buffer, static_cast<size_t>(n));
  }
  close(pair[0]);
  return run;
}

bool refused(const ProbeRun& run) {
  return run.status.exited(kRefused) || run.status.signaled(SIGSYS);
}

std::string describe(const ProbeRun& run) {
  return "kind=" + std::to_string(static_cast<int>(run.status.kind)) +
         " code=" + std::to_string(run.status.code) + " signal=" + std::to_string(run.status.signal) +
         " said=" + run.said;
}

TEST(Sandbox, TheAppHasNoCapabilitiesEvenWhenLaunchedByRoot) {
  SandboxPolicy policy;
  policy.landlock = false;  // all three would refuse reading /proc/self/status
  policy.seccomp = false;
  policy.private_root = false;  // (it has no /proc)
  const ProbeRun run = run_probe({"caps"}, policy);
  ASSERT_TRUE(run.status.exited(0)) << describe(run);
  for (const char* set :
       {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000"})
    EXPECT_NE(run.said.find(set), std::string::npos) << set << " not in: " << run.said;
}

TEST(Sandbox, LandlockIsAvailableOnThisKernel) {
  EXPECT_GE(landlock_abi_version(), 1);
}

// Each landlock ABI below the one the sandbox is built for loses something, and says what.
TEST(Sandbox, NamesWhatAnOldKernelLacks) {
  EXPECT_TRUE(sandbox_missing_protections(kWantedLandlockAbi).empty());
  EXPECT_TRUE(sandbox_missing_protections(7).empty());
  const auto on_debian_12 = sandbox_missing_protections(2);  // Linux 6.1
  ASSERT_EQ(on_debian_12.size(), 4u);
  EXPECT_NE(on_debian_12.back().find("signal"), std::string::npos);
  EXPECT_EQ(sandbox_missing_protections(5).size(), 1u);
  EXPECT_EQ(sandbox_missing_protections(0).size(), 5u);
}

TEST(Sandbox, AnOldKernelRunsNoUserAppUnlessTheOwnerAllowsIt) {
  SandboxPolicy policy;
  for (int abi = 0; abi < kWantedLandlockAbi; ++abi) {
    const Status refused = check_kernel_support(policy, abi);
    EXPECT_EQ(refused.code(), Code::kUnsupported) << abi;
    EXPECT_EQ(refused.detail(), static_cast<uint32_t>(abi));
    EXPECT_NE(std::string(refused.reason()).find("allow_degraded"), std::string::npos);
  }
  EXPECT_TRUE(check_kernel_support(policy, kWantedLandlockAbi).is_ok());
  policy.allow_degraded = true;
  EXPECT_TRUE(check_kernel_support(policy, 2).is_ok());
}

// This kernel has everything, so the launcher's check lets the probe start (the refusal path is the
// table above; a kernel cannot be made older for a test).
TEST(Sandbox, ThisKernelGivesTheWholeSandbox) {
  EXPECT_TRUE(sandbox_missing_protections(landlock_abi_version()).empty())
      << "landlock ABI " << landlock_abi_version();
}

TEST(Sandbox, DynamicallyLinkedProbeStartsAndExitsCleanly) {
  const std::string interp = "/lib64/ld-linux-x86-64.so.2";
  ASSERT_NE(std::search(probe_image().begin(), probe_image().end(), interp.begin(), interp.end()),
            probe_image().end())
      << "the probe must be dynamically linked, like a user app";
  const ProbeRun run = run_probe({"exit", "0"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

// Each hostile action of a user app is one row; each must fail, by an error or by seccomp killing the probe.
struct Forbidden {
  const char* name;
  std::vector<std::string> args;
};

void PrintTo(const Forbidden& row, std::ostream* os) {
  *os << row.name;
}

class SandboxForbids : public testing::TestWithParam<Forbidden> {};

TEST_P(SandboxForbids, Action) {
  const ProbeRun run = run_probe(GetParam().args);
  EXPECT_TRUE(refused(run)) << describe(run);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SandboxForbids,
    testing::Values(
        Forbidden{"OpenEtcPasswd", {"open", "/etc/passwd"}},
        Forbidden{"OpenProbeItsOwnFile", {"open", PRIVOTA_SANDBOX_PROBE}},
        Forbidden{"OpenProcSelf", {"open", "/proc/self/maps"}},
        Forbidden{"WriteTmp", {"write", "/tmp/privota-sandbox-escape"}},
        Forbidden{"WriteIntoLibraries", {"write", "/usr/lib/privota-sandbox-escape"}},
        Forbidden{"Socket", {"socket"}}, Forbidden{"UnixSocket", {"unix-socket"}},
        Forbidden{"Connect", {"connect", "127.0.0.1:1"}}, Forbidden{"ExecBinTrue", {"exec", "/bin/true"}},
        Forbidden{"ExecTheLoader", {"exec", "/lib64/ld-linux-x86-64.so.2"}},
        Forbidden{"ExecAgainThroughTheLaunchersFd", {"reexec"}},
        Forbidden{"ExecatTheLoaderByPath", {"execat", "/lib64/ld-linux-x86-64.so.2"}},
        Forbidden{"ExecatLibcByPath", {"execat", "/usr/lib/x86_64-linux-gnu/libc.so.6"}},
        Forbidden{"ExecatBinTrueByPath", {"execat", "/bin/true"}},
        Forbidden{"ExecatItsOwnFile", {"execat", PRIVOTA_SANDBOX_PROBE}}, Forbidden{"Fork", {"fork"}},
        Forbidden{"Clone3", {"thread-clone3"}}, Forbidden{"PtraceParent", {"ptrace"}},
        Forbidden{"KillInit", {"kill", "1"}}, Forbidden{"KillParent", {"kill-parent"}},
        Forbidden{"Mount", {"mount"}}, Forbidden{"Unshare", {"unshare"}}, Forbidden{"MemfdCreate", {"memfd"}},
        Forbidden{"RaiseFdLimit", {"raise-limit"}},
        Forbidden{"OpenLibraryAfterSeal", {"--sealed", "open", "/etc/ld.so.cache"}},
        Forbidden{"FcntlSetOwnToParent", {"fcntl-setown"}},
        Forbidden{"FcntlSetOwnExToParent", {"fcntl-setown-ex"}}, Forbidden{"FcntlSetSig", {"fcntl-setsig"}},
        Forbidden{"FcntlAsync", {"fcntl-async"}}, Forbidden{"FcntlLease", {"fcntl-lease"}},
        Forbidden{"AccessAKeyFile", {"access", "/etc/passwd"}},
        Forbidden{"Faccessat2AKeyFile", {"faccessat2", "/etc/passwd"}},
        Forbidden{"OpenPathAKeyFile", {"open-path", "/etc/passwd"}},
        Forbidden{"OpenPathALibrary", {"open-path", "/etc/ld.so.cache"}},
        Forbidden{"PrlimitOfTheParent", {"prlimit-parent"}},
        Forbidden{"StatAKeyFile", {"stat", "/etc/passwd"}},
        Forbidden{"StatTheProbesOwnFile", {"stat", PRIVOTA_SANDBOX_PROBE}},
        Forbidden{"StatWithTheEmptyPathFlag", {"stat-empty-path-flag", "/etc/passwd"}},
        Forbidden{"StatTheProc", {"stat", "/proc/self"}}),
    [](const testing::TestParamInfo<Forbidden>& info) { return std::string(info.param.name); });

// A path probe learns nothing: in the private root a host file and a file that does not exist look the same
// (before, stat gave any file's size and mode, and an open refused by landlock said EACCES for a file that
// exists and ENOENT for one that does not).
TEST(Sandbox, AHostFileAndAMissingFileLookTheSame) {
  test::TempDir dir;
  const std::string key = (dir / "owner.pem").string();
  test::write_text(dir / "owner.pem", "-----BEGIN PRIVATE KEY-----\n");
  const ProbeRun existing = run_probe({"open-errno", key});
  const ProbeRun missing = run_probe({"open-errno", (dir / "none.pem").string()});
  EXPECT_TRUE(existing.status.exited(kRefused)) << describe(existing);
  EXPECT_EQ(existing.said, "ENOENT") << describe(existing);
  EXPECT_EQ(missing.said, "ENOENT") << describe(missing);
  EXPECT_TRUE(refused(run_probe({"stat", key})));
}

// The private root holds the libraries: the loader found them (every probe run starts), and so can the app.
TEST(Sandbox, TheLibrariesAreStillThere) {
  const ProbeRun run = run_probe({"stat", "/etc/ld.so.cache"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

// Without the private root (a kernel without namespaces, allowed degraded) the same probe saw the file.
TEST(Sandbox, WithoutThePrivateRootStatSeesHostFiles) {
  test::TempDir dir;
  test::write_text(dir / "owner.pem", "x");
  SandboxPolicy policy;
  policy.private_root = false;
  const ProbeRun run = run_probe({"stat", (dir / "owner.pem").string()}, policy);
  EXPECT_TRUE(run.status.exited(0)) << "the leak this closes: " << describe(run);
}

// Landlock alone (no seccomp) grants EXECUTE on the ELF interpreter only: libraries are read and mapped,
// never executed.
TEST(Sandbox, LandlockExecutesNoLibrary) {
  SandboxPolicy policy;
  policy.seccomp = false;
  const ProbeRun run = run_probe({"execat", "/usr/lib/x86_64-linux-gnu/libc.so.6"}, policy);
  EXPECT_TRUE(run.status.exited(kRefused)) << describe(run);
  EXPECT_EQ(run.said, "refused errno=" + std::to_string(EACCES));
}

// The gate opens once: the exec that started the probe went through, the next one fails with ENOSYS.
TEST(Sandbox, TheExecGateIsClosedAfterTheFirstExec) {
  const ProbeRun run = run_probe({"execat", "/lib64/ld-linux-x86-64.so.2"});
  EXPECT_TRUE(run.status.exited(kRefused)) << describe(run);
  EXPECT_EQ(run.said, "refused errno=" + std::to_string(ENOSYS));
}

TEST(Sandbox, WriteAttemptLeavesNoFile) {
  const std::filesystem::path target = "/tmp/privota-sandbox-escape-check";
  std::filesystem::remove(target);
  EXPECT_TRUE(refused(run_probe({"write", target.string()})));
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(Sandbox, LibrariesStayReadableUntilSealed) {
  // Layer 1 alone lets the loader (and the app) read library files, nothing else.
  const ProbeRun run = run_probe({"open", "/etc/ld.so.cache"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

TEST(Sandbox, ChannelCanBeWrittenAndRead) {
  ProbeRun run = run_probe({"write-channel", "hello"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
  EXPECT_EQ(run.said, "hello");
  run = run_probe({"read-own-channel"}, {}, "ping");
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
  EXPECT_EQ(run.said, "ping");
}

TEST(Sandbox, EverydayFcntlWorks) {
  const ProbeRun run = run_probe({"fcntl-everyday"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

// Refused by seccomp itself, not only by landlock's signal scoping (which kernels before 6.12 lack): with
// landlock off, the attempt still fails, with EPERM.
TEST(Sandbox, FcntlSignalOwnerIsRefusedWithoutLandlock) {
  SandboxPolicy policy;
  policy.landlock = false;
  for (const char* action : {"fcntl-setown", "fcntl-setown-ex", "fcntl-setsig", "fcntl-async"}) {
    const ProbeRun run = run_probe({action}, policy);
    EXPECT_TRUE(run.status.exited(kRefused)) << action << " " << describe(run);
    EXPECT_EQ(run.said, "refused errno=" + std::to_string(EPERM)) << action;
  }
}

TEST(Sandbox, SealedProbeStillUsesItsChannel) {
  const ProbeRun run = run_probe({"--sealed", "write-channel", "sealed"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
  EXPECT_EQ(run.said, "sealed");
}

TEST(Sandbox, AllocatingTenMegabytesWorks) {
  const ProbeRun run = run_probe({"alloc", "10"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

TEST(Sandbox, AllocatingPastTheAddressSpaceLimitFails) {
  const ProbeRun run = run_probe({"alloc", "300"});
  EXPECT_TRUE(refused(run) || run.status.kind == ExitStatus::Kind::kSignaled) << describe(run);
}

// stdout as the protected app gives it (a stream socket): opening it again through /proc fails, so the app
// cannot read its own log lines back.
TEST(Sandbox, StdoutCannotBeReadBackThroughProc) {
  int out[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
  int channel[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel), 0);
  LaunchOptions options;
  options.argv = {"sandbox_probe", "reopen-stdout"};
  options.fds = {{out[1], 1}, {channel[1], kChannelFd}};
  options.sandbox = SandboxPolicy{};
  auto child = launch_from_memory(test::span_of(probe_image()), options);
  close(out[1]);
  close(channel[1]);
  ASSERT_TRUE(child.is_ok()) << child.status().reason();
  const auto status = child->wait(std::chrono::milliseconds(60000));
  ASSERT_TRUE(status.is_ok());
  EXPECT_TRUE(status->exited(kRefused));
  close(out[0]);
  close(channel[0]);
}

// A pipe could be reopened for reading through /proc/self/fd (landlock does not cover pipes): the launcher
// gives a sandboxed app none.
TEST(Sandbox, LauncherRefusesAPipeForASandboxedApp) {
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  LaunchOptions options;
  options.argv = {"sandbox_probe", "exit", "0"};
  options.fds = {{out[1], 1}};
  options.sandbox = SandboxPolicy{};
  auto child = launch_from_memory(test::span_of(probe_image()), options);
  close(out[0]);
  close(out[1]);
  ASSERT_FALSE(child.is_ok());
  EXPECT_EQ(child.status().code(), Code::kInvalidArgument);
  EXPECT_NE(std::string(child.status().reason()).find("pipe"), std::string::npos);
}

TEST(Sandbox, ItsOwnLimitsCanBeRead) {
  const ProbeRun run = run_probe({"prlimit-self"});
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
}

TEST(Sandbox, SignalsToItselfWork) {
  EXPECT_TRUE(run_probe({"kill-self"}).status.exited(0));
  EXPECT_TRUE(run_probe({"abort"}).status.signaled(SIGABRT));
}

TEST(Sandbox, OnlyTheChannelIsInherited) {
  const int stray = dup(STDERR_FILENO);  // an fd the caller has open and did not hand over
  const ProbeRun run = run_probe({"list-fds"});
  close(stray);
  EXPECT_TRUE(run.status.exited(0)) << describe(run);
  EXPECT_EQ(run.said, "3");
}

TEST(Sandbox, CpuLimitEndsASpinningApp) {
  SandboxPolicy policy;
  policy.cpu_seconds = 1;
  const ProbeRun run = run_probe({"spin"}, policy);
  EXPECT_TRUE(run.status.signaled(SIGXCPU) || run.status.signaled(SIGKILL)) << describe(run);
}

}  // namespace
}  // namespace privota::host
