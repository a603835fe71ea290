// Fleet jobs through the whole device: privota-sim runs a device whose device.json has a `fleet` section, a
// real mosquitto (TLS, client certificates, the fleet's ACL) carries the jobs and statuses, Debian's nginx
// serves the signed images. The test is the controller: it publishes job documents and reads the device's
// retained status (docs/fleet.md).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "fleet_test_support.h"
#include "https_server.h"
#include "privota/host/fleet_status.h"
#include "privota/host/mbedtls_digest.h"
#include "sim_device.h"

namespace privota::test {
namespace {

using nlohmann::json;

std::string sha256_hex(const std::filesystem::path& file) {
  const std::vector<uint8_t> bytes = read_file(file);
  host::MbedSha256 sha;
  sha.begin();
  sha.update({bytes.data(), bytes.size()});
  uint8_t digest[32];
  sha.finish(digest);
  std::string hex;
  for (uint8_t b : digest) {
    static const char* kHex = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// privota-sim in the background: a fleet device stays up waiting for jobs, so the test powers it off
// (SIGTERM to the sim; its bootloader and apps die with it). Its JSON events go to a file read as it runs.
class BackgroundSim {
 public:
  BackgroundSim(const SimDevice& device, const std::vector<std::string>& extra)
      : BackgroundSim(device.flash(), device.dir(), extra) {}
  // A sim of `flash` with `dir`/device.json, its events in `dir`/<flash name>.log.
  BackgroundSim(const std::filesystem::path& flash, const std::filesystem::path& dir,
                const std::vector<std::string>& extra)
      : log_(dir / (flash.stem().string() + ".log")) {
    std::vector<std::string> argv = {
        PRIVOTA_SIM, "run", flash.string(), "--config", (dir / "device.json").string(), "--log", "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::vector<char*> args;
    for (std::string& arg : argv)
      args.push_back(arg.data());
    args.push_back(nullptr);
    const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    ::close(out);
  }
  ~BackgroundSim() { power_off(); }
  BackgroundSim(const BackgroundSim&) = delete;
  BackgroundSim& operator=(const BackgroundSim&) = delete;

  void power_off() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    (void)wait_exit(std::chrono::seconds(10));
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // The sim's exit code once it ended by itself (a power cut: 3), or -1 after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // Whether `name` was logged within `timeout`. The status over MQTT can overtake the device's log on its
  // way to the events file; a test that powers off at the status must first wait for the log.
  bool wait_event(const std::string& name, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (events(name).empty()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }
  std::vector<json> events(const std::string& name) const {
    std::vector<json> found;
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line)) {
      const json e = json::parse(line, nullptr, false);
      if (!e.is_discarded() && e.is_object() && e.value("event", "") == name) found.push_back(e);
    }
    return found;
  }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

// One fleet device (dev-a) with fleet_app 1.0.0 confirmed, its broker and an nginx with the images.
class DeviceFleet : public ::testing::Test {
 protected:
  DeviceFleet() : fleet_({"dev-a"}), nginx_(docroot_.path()) {}

  void SetUp() override {
    device_.make_flash(device_.protected_image("1.0.0", 1), device_.user_image("fleet_app", "1.0.0", 1));
    controller_ = fleet_.connect_controller();
    ASSERT_EQ(controller_->subscribe("privota/dev-a/status", 1, 2s), 1);
    ASSERT_EQ(controller_->subscribe("privota/dev-a/progress", 0, 2s), 0);
  }

  // device.json: nginx's CA, host and port allowed; the fleet section of dev-a.
  void configure(bool consent = false) {
    device_.configure("--tls-ca '" + TestPki::get().ca_pem.string() +
                      "' --allow-host 127.0.0.1 --allow-port " + std::to_string(nginx_.port()) +
                      " --connect-timeout-ms 2000 --max-attempts 2");
    const std::filesystem::path config = device_.dir() / "device.json";
    json j = json::parse(text_of(config));
    j["fleet"] = json::parse(text_of(fleet_.dir() / "devices" / "dev-a" / "fleet.json"));
    j["fleet"]["user_consent"] = consent;
    j["fleet"]["offer_again_s"] = 1;
    j["fleet"]["keepalive_s"] = 5;
    write_text(config, j.dump(2));
  }

  std::string serve(const std::filesystem::path& image, const std::string& name) {
    std::filesystem::copy_file(image, docroot_ / name, std::filesystem::copy_options::overwrite_existing);
    return nginx_.url(name);
  }

  std::string job(const std::string& id, const std::string& url, const std::string& version,
                  const std::filesystem::path& image) {
    return json{{"v", 1},
                {"job_id", id},
                {"level", "user"},
                {"url", url},
                {"version", version},
                {"size", std::filesystem::file_size(image)},
                {"sha256", sha256_hex(image)}}
        .dump();
  }

  void publish(const std::string& document) {
    ASSERT_TRUE(controller_->publish("privota/dev-a/job", document, 1, true, 2s));
  }

  // Reads statuses (and progress) until one satisfies `done`, or `timeout`.
  std::optional<host::FleetStatus> wait_status(const std::function<bool(const host::FleetStatus&)>& done,
                                               std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto message = controller_->next_message(200ms);
      if (!message) continue;
      if (message->topic.ends_with("/progress")) {
        progress_.push_back(message->payload);
        continue;
      }
      const auto status = host::parse_fleet_status(message->payload);
      if (!status) continue;
      statuses_.push_back(*status);
      if (done(*status)) return status;
    }
    return std::nullopt;
  }

  // fleet_app `version` signed by a developer of another user-app CA (made in `dir`).
  std::filesystem::path wrongly_signed_image(const std::filesystem::path& dir, const std::string& version) {
    std::filesystem::create_directories(dir);
    const std::string cli = device_.cli(), d = "'" + dir.string() + "'";
    must(run_command(cli + " ca new -o " + d + "/ca"), "ca new");
    must(run_command(cli + " key gen --type rsa3072 -o " + d + "/dev.pem"), "key gen");
    must(run_command(cli + " ca issue --ca " + d + "/ca --key " + d + "/dev.pem -o " + d + "/dev_uac.pem"),
         "ca issue");
    must(run_command(cli + " image build --payload '" +
                     (std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images" / "fleet_app.elf").string() +
                     "' --version " + version + " --secure-version 2 --project fleet_app -o " + d +
                     "/app.bin"),
         "image build");
    must(run_command(cli + " image sign --scheme user-cert --key " + d + "/dev.pem --cert " + d +
                     "/dev_uac.pem " + d + "/app.bin -o " + d + "/app.signed.bin"),
         "image sign");
    return dir / "app.signed.bin";
  }

  static std::function<bool(const host::FleetStatus&)> outcome_is(const std::string& id) {
    return [=](const host::FleetStatus& s) { return s.last_job && s.last_job->job_id == id; };
  }

  SimDevice device_;
  TestFleet fleet_;
  TempDir docroot_;
  NginxServer nginx_;
  std::unique_ptr<host::MqttClient> controller_;
  std::vector<host::FleetStatus> statuses_;
  std::vector<std::string> progress_;
};

TEST_F(DeviceFleet, AUserJobSucceedsOnlyOnceTheNewAppConfirmedItselfAfterTheReboot) {
  configure();
  const auto image = device_.user_image("fleet_app", "2.0.0", 2);
  BackgroundSim sim(device_, {"--user-arg", "0"});
  // Connected: the retained status names both running apps. The factory app's state is `undefined` until
  // it confirms itself, which may come after the first status: the status follows it.
  const auto first = wait_status(
      [](const auto& s) { return s.apps.user_app.version == "1.0.0" && s.apps.user_app.state == "valid"; });
  ASSERT_TRUE(first) << sim.output();
  EXPECT_EQ(first->apps.protected_app.version, "1.0.0");
  publish(job("r1-dev-a", serve(image, "app-2.bin"), "2.0.0", image));
  const auto done = wait_status(outcome_is("r1-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kSucceeded) << done->last_job->reason;
  EXPECT_EQ(done->apps.user_app.version, "2.0.0");
  EXPECT_EQ(done->apps.user_app.state, "valid");
  // Before the outcome, the job was seen awaiting the new app's confirmation, never SUCCEEDED earlier.
  bool awaited = false;
  for (const auto& s : statuses_)
    awaited = awaited || (s.job && s.job->step == host::FleetJobStep::kAwaitingConfirm);
  EXPECT_TRUE(awaited);
  EXPECT_FALSE(progress_.empty());
  EXPECT_TRUE(sim.wait_event("fleet_job_finished", 30s)) << sim.output();
  sim.power_off();
  EXPECT_EQ(sim.events("fleet_job_finished").size(), 1u) << sim.output();
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
}

TEST_F(DeviceFleet, ACrashingImageIsRolledBackAndReportedSo) {
  configure();
  const auto image = device_.user_image("crasher", "2.0.0", 2);
  BackgroundSim sim(device_, {"--user-arg", "0"});
  publish(job("r2-dev-a", serve(image, "crasher-2.bin"), "2.0.0", image));
  const auto done = wait_status(outcome_is("r2-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kRolledBack);
  EXPECT_NE(done->last_job->reason.find("trial failed"), std::string::npos) << done->last_job->reason;
  if (done->apps.user_app.version != "1.0.0") {
    ASSERT_TRUE(wait_status([](const auto& s) { return s.apps.user_app.version == "1.0.0"; }, 20s));
  }
  sim.power_off();
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

// Security (issue 15, item 6): a job is fetched only under the device's own URL policy, and an image that
// is not signed by the user-app CA fails verification as any OTA job does.
TEST_F(DeviceFleet, AJobOutsideThePolicyIsRejectedAndAWronglySignedImageFails) {
  configure();
  const auto good = device_.user_image("fleet_app", "2.0.0", 2);
  BackgroundSim sim(device_, {"--user-arg", "0"});
  ASSERT_TRUE(wait_status([](const auto& s) { return s.apps.user_app.version == "1.0.0"; })) << sim.output();
  // Port 1 is not on the allow-list.
  publish(job("r3-dev-a", "https://127.0.0.1:1/app-2.bin", "2.0.0", good));
  auto done = wait_status(outcome_is("r3-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kRejected);
  EXPECT_NE(done->last_job->reason.find("url_port_not_allowed"), std::string::npos) << done->last_job->reason;

  // Signed by a developer whose certificate another CA issued: the device does not trust it.
  const auto wrongly_signed = wrongly_signed_image(device_.dir() / "other", "2.0.0");
  publish(job("r4-dev-a", serve(wrongly_signed, "wrongly-signed.bin"), "2.0.0", wrongly_signed));
  done = wait_status(outcome_is("r4-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kFailed);
  EXPECT_TRUE(done->last_job->reason.starts_with("untrusted") ||
              done->last_job->reason.starts_with("bad_signature"))
      << done->last_job->reason;
  // A job whose image is not the one it names fails before anything is selected.
  publish(json{{"v", 1},
               {"job_id", "r5-dev-a"},
               {"level", "user"},
               {"url", serve(good, "app-2.bin")},
               {"version", "2.0.1"}}
              .dump());
  done = wait_status(outcome_is("r5-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kFailed);
  EXPECT_NE(done->last_job->reason.find("version"), std::string::npos) << done->last_job->reason;
  sim.power_off();
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

TEST_F(DeviceFleet, TheUserAppDefersOnceThenAcceptsAndTheControllerSeesDeferred) {
  configure(/*consent=*/true);
  const auto image = device_.user_image("fleet_app", "2.0.0", 2);
  BackgroundSim sim(device_, {});  // fleet_app defers the first offer
  publish(job("r6-dev-a", serve(image, "app-2.bin"), "2.0.0", image));
  ASSERT_TRUE(wait_status([](const auto& s) {
    return s.job && s.job->step == host::FleetJobStep::kDeferred;
  })) << sim.output();
  const auto done = wait_status(outcome_is("r6-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kSucceeded) << done->last_job->reason;
  sim.power_off();
  EXPECT_EQ(sim.events("fleet_job_answered").size(), 2u) << sim.output();
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
}

// Protected-level jobs through the real controller (`privota fleet rollout --level protected`): the protected
// app goes 1.0.0 -> 2.0.0 (download, reboot, trial, it confirms itself once it started the user app) and the
// job SUCCEEDED once; an unsigned image FAILED verification; a protected app that crashes on its trial is
// rolled back by the bootloader and the job ROLLED_BACK. The bad rollouts abort (exit 1) at a 0% limit.
class DeviceFleetProtected : public DeviceFleet {
 protected:
  CommandResult rollout(const std::string& url, const std::string& version) {
    const auto devices = device_.dir() / "devices.txt";
    write_text(devices, "dev-a\n");
    return run_command(std::string(PRIVOTA_CLI) + " fleet rollout --fleet '" + fleet_.dir().string() +
                       "' --level protected --url " + url + " --version " + version + " --devices '" +
                       devices.string() + "' --waves 100% --max-failure-rate 0% --wave-timeout 120 2>&1");
  }
  // The job's record in the controller's database, via `privota fleet status ID --json`.
  json job_of(const CommandResult& result) {
    const size_t at = result.out.find("rollout ");
    if (at == std::string::npos) return {};
    const CommandResult status =
        run_command(std::string(PRIVOTA_CLI) + " fleet status " + result.out.substr(at + 8, 8) +
                    " --json --fleet '" + fleet_.dir().string() + "' 2>&1");
    const json doc = json::parse(status.out, nullptr, false);
    return doc.is_object() && doc["jobs"].size() == 1 ? doc["jobs"][0] : json{};
  }
  // The protected app with a payload that is not one: the bootloader starts it, it crashes at once.
  std::filesystem::path crashing_protected_image(const std::string& version, uint32_t secure_version) {
    const std::string cli = device_.cli();
    const auto dir = device_.dir();
    must(run_command(cli + " image build --payload '" +
                     (std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images" / "crasher.elf").string() +
                     "' --version " + version + " --secure-version " + std::to_string(secure_version) +
                     " --project protected -o '" + (dir / "protected-crash.bin").string() + "'"),
         "image build");
    must(run_command(cli + " image sign --scheme secure-boot-v2 --key '" +
                     (std::filesystem::path(PRIVOTA_DEVICE_DIR) / "keys" / "owner.pem").string() + "' '" +
                     (dir / "protected-crash.bin").string() + "' -o '" +
                     (dir / "protected-crash.signed.bin").string() + "'"),
         "image sign");
    return dir / "protected-crash.signed.bin";
  }
};

TEST_F(DeviceFleetProtected, ARolloutUpdatesTheProtectedAppAndBadImagesFailOrRollBack) {
  configure();
  const auto v2 = device_.protected_image("2.0.0", 2);
  BackgroundSim sim(device_, {"--user-arg", "0"});
  ASSERT_TRUE(wait_status([](const auto& s) { return s.apps.protected_app.version == "1.0.0"; }))
      << sim.output();

  const CommandResult good = rollout(serve(v2, "protected-2.bin"), "2.0.0");
  ASSERT_EQ(good.exit_code, 0) << good.out << sim.output();
  EXPECT_NE(good.out.find("dev-a: SUCCEEDED"), std::string::npos) << good.out;
  EXPECT_EQ(job_of(good).value("state", ""), "SUCCEEDED") << good.out;
  // The status of the confirmation can come before the one that carries the outcome: wait for both.
  const auto updated = wait_status([](const auto& s) {
    return s.apps.protected_app.version == "2.0.0" && s.apps.protected_app.state == "valid" &&
           s.last_job.has_value();
  });
  ASSERT_TRUE(updated) << sim.output();
  ASSERT_TRUE(updated->last_job.has_value());
  EXPECT_EQ(updated->last_job->outcome, host::FleetOutcome::kSucceeded);
  EXPECT_EQ(updated->apps.user_app.version, "1.0.0");  // the user app untouched
  // Never SUCCEEDED before the new protected app ran and confirmed itself; one outcome, one confirmation.
  EXPECT_EQ(sim.events("fleet_job_finished").size(), 1u) << sim.output();
  EXPECT_EQ(sim.events("protected_confirmed").size(), 1u) << sim.output();

  // Unsigned: built but never signed by the owner. The job fails, nothing is selected.
  const auto unsigned_v3 = device_.dir() / "protected-3.0.0.bin";
  must(run_command(device_.cli() + " image build --payload '" +
                   (std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images" / "protected.elf").string() +
                   "' --version 3.0.0 --secure-version 3 --project protected -o '" + unsigned_v3.string() +
                   "'"),
       "image build");
  const CommandResult unsigned_rollout = rollout(serve(unsigned_v3, "protected-unsigned.bin"), "3.0.0");
  EXPECT_EQ(unsigned_rollout.exit_code, 1) << unsigned_rollout.out;
  EXPECT_NE(unsigned_rollout.out.find("ABORTED"), std::string::npos) << unsigned_rollout.out;
  const json failed = job_of(unsigned_rollout);
  EXPECT_EQ(failed.value("state", ""), "FAILED") << unsigned_rollout.out;
  // An SBv2 image ends with its signature sector: one without it is refused by its very length.
  EXPECT_NE(failed.value("reason", "").find("signed image"), std::string::npos) << failed.dump();

  // Signed, but it crashes on every boot of its trial: the bootloader rolls it back to 2.0.0.
  const auto crashing = crashing_protected_image("4.0.0", 2);
  const CommandResult crash_rollout = rollout(serve(crashing, "protected-crash.bin"), "4.0.0");
  EXPECT_EQ(crash_rollout.exit_code, 1) << crash_rollout.out << sim.output();
  const json rolled = job_of(crash_rollout);
  EXPECT_EQ(rolled.value("state", ""), "ROLLED_BACK") << crash_rollout.out;
  sim.power_off();
  EXPECT_EQ(sim.events("fleet_job_finished").size(), 3u) << sim.output();
  EXPECT_EQ(device_.running("protected"), "2.0.0 valid");
  EXPECT_EQ(device_.running("user"), "1.0.0 valid");
}

// A power cut in the middle of the download: the next power-on resumes the same job (no second copy of it)
// and its outcome is reported once.
TEST_F(DeviceFleet, APowerCutMidJobResumesItAndReportsOneOutcome) {
  configure();
  const auto image = device_.padded_elf("fleet_app", 120 * 1024);
  const auto big = device_.signed_user_image("fleet_app-big", image, "fleet_app", "2.0.0", 2);
  publish(job("r7-dev-a", serve(big, "app-big.bin"), "2.0.0", big));
  // Where to cut: a rehearsal on a copy of the flash says how many writes the device makes before the job
  // starts writing the image; the cut comes 40 writes into it (the job's sectors and pages).
  const auto rehearsal = device_.dir() / "rehearsal.bin";
  std::filesystem::copy_file(device_.flash(), rehearsal);
  uint64_t started_at = 0;
  {
    BackgroundSim sim(rehearsal, device_.dir(), {"--user-arg", "0"});
    for (int i = 0; i < 300 && sim.events("fleet_job_started").empty(); ++i)
      std::this_thread::sleep_for(100ms);
    const auto started = sim.events("fleet_job_started");
    ASSERT_FALSE(started.empty()) << sim.output();
    started_at = started[0].value("flash_writes", 0);
  }
  {
    BackgroundSim sim(device_, {"--user-arg", "0", "--power-cut-at", std::to_string(started_at + 40)});
    ASSERT_EQ(sim.wait_exit(60s), 3) << sim.output();
    ASSERT_EQ(sim.events("fleet_job_started").size(), 1u) << sim.output();
    ASSERT_GT(sim.events("power_cut").at(0).value("job_position", 0), 0) << sim.output();
  }
  BackgroundSim sim(device_, {"--user-arg", "0"});
  const auto done = wait_status(outcome_is("r7-dev-a"));
  ASSERT_TRUE(done) << sim.output();
  EXPECT_EQ(done->last_job->outcome, host::FleetOutcome::kSucceeded) << done->last_job->reason;
  EXPECT_TRUE(sim.wait_event("fleet_job_finished", 30s)) << sim.output();
  sim.power_off();
  // The same job continued from its journal: no new fleet job, one outcome.
  EXPECT_EQ(sim.events("fleet_job_started").size(), 0u) << sim.output();
  EXPECT_EQ(sim.events("fleet_job_finished").size(), 1u) << sim.output();
  EXPECT_TRUE(sim.events("ota_started").at(0).value("resumed", false)) << sim.output();
  EXPECT_EQ(device_.running("user"), "2.0.0 valid");
}

}  // namespace
}  // namespace privota::test
