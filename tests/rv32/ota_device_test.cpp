// The OTA story on the rv32 device (docs/rv32-network.md, "OTA on the device"): privota-sim --machine rv32
// runs the bootloader, the protected firmware and the updater example in QEMU, with the network restricted
// to nginx on 127.0.0.1 (--net-forward). The updater asks for an image by URL; the protected firmware's
// OTA service downloads it in the background over TLS into the passive slot, verifies, selects it and
// reboots; the new app runs on trial and confirms itself. Refused updates leave the running app running;
// a crashing update is rolled back.
#include <regex>

#include "https_server.h"
#include "rv32_device.h"

namespace privota {
namespace {

using test::NginxServer;
using test::TestPki;

struct SimRun {
  int exit_code = -1;
  std::string out;
  bool has(const std::string& text) const { return out.find(text) != std::string::npos; }
};

// How a test image is built and signed (Rv32OtaDevice::sign).
struct ImageOptions {
  std::string secure_version = "1";
  std::string chip = "qemu-rv32";
  fs::path keys = kDeviceDir / "keys";  // dev.pem and dev_uac.pem, issued by the device's user-app CA
};

class Rv32OtaDevice : public Rv32Device {
 protected:
  void SetUp() override {
    Rv32Device::SetUp();
    write_user_app("updater");  // v1.0.0, the factory app
    sign(PRIVOTA_RV32_UPDATER, "updater", "2.0.0", "v2.bin");
  }

  // `elf` as a signed user-app image `version` at https://localhost:PORT/`file`.
  void sign(const char* elf, const std::string& project, const std::string& version, const std::string& file,
            const ImageOptions& o = {}) {
    const std::string raw = (dir_ / "raw.bin").string();
    run_steps({std::string(PRIVOTA_CLI) + " image build --elf " + elf + " --chip " + o.chip + " --version " +
                   version + " --secure-version " + o.secure_version + " --project " + project + " -o " +
                   raw + " --force",
               std::string(PRIVOTA_CLI) + " image sign --scheme user-cert --key " +
                   (o.keys / "dev.pem").string() + " --cert " + (o.keys / "dev_uac.pem").string() + " " +
                   raw + " -o " + (root_ / file).string() + " --force"});
  }

  std::string url(const std::string& file, const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(server_.port()) + "/" + file;
  }

  // The device with the OTA network section: the test PKI's CA for TLS, localhost and the server's port.
  fs::path config() {
    std::ifstream in(kDeviceDir / "device.json");
    nlohmann::json json = nlohmann::json::parse(in);
    json["user_app"]["ca_cert"] = (kDeviceDir / "keys/ca/ca_cert.pem").string();
    json["ota"]["tls_ca"] = TestPki::get().ca_pem.string();
    json["ota"]["allowed_hosts"] = {"localhost"};
    json["ota"]["allowed_ports"] = {server_.port()};
    const fs::path path = dir_ / "device.json";
    std::ofstream(path) << json.dump(2);
    return path;
  }

  // Powers the device on with the updater asking for `update` until it halts (the updater exits).
  SimRun run(const std::string& update, const std::string& extra = "") {
    return power_on("--user-arg " + update + " " + extra);
  }
  SimRun power_on(const std::string& options) {
    const test::CommandResult done = test::run_command(
        std::string("timeout 300 ") + PRIVOTA_SIM + " run " + flash_.string() + " --config " +
        config().string() + " --machine rv32 --bootloader " + PRIVOTA_RV32_BOOTLOADER + " --qemu " +
        PRIVOTA_QEMU_RV32 + " --net-forward " + std::to_string(server_.port()) + " " + options);
    return {done.exit_code, done.out};
  }

  // A protected-firmware image of build/device-rv32/images (Secure Boot v2, the owner's key) served as
  // `file`.
  void serve_protected(const std::string& image, const std::string& file) {
    fs::copy_file(kDeviceDir / "images" / (image + ".signed.bin"), root_ / file,
                  fs::copy_options::overwrite_existing);
  }

  test::TempDir root_;
  NginxServer server_{root_.path()};
};

TEST_F(Rv32OtaDevice, UpdaterV1InstallsV2InTheBackgroundWhichConfirmsItself) {
  const SimRun run = this->run(url("v2.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  expect_lines(run.out, {"OTA service ready", "updater 1.0.0 running from user_0", "updater: job 1",
                         "downloading", "OTA job activated the new image", "rebooting: job_activated",
                         "started updater 2.0.0 from user_1 in U-mode, on trial",
                         "the user app confirmed itself", "updater 2.0.0 running from user_1"});
  // The user app kept running while the job downloaded: it polled and printed progress between the job's
  // turns, more than once.
  size_t lines = 0;
  for (size_t at = run.out.find("downloading"); at != std::string::npos;
       at = run.out.find("downloading", at + 1))
    ++lines;
  EXPECT_GE(lines, 2u) << run.out;
}

TEST_F(Rv32OtaDevice, ATamperedImageAndAUrlOutsideThePolicyAreRefusedWhileV1Runs) {
  std::vector<uint8_t> image = test::read_file(root_ / "v2.bin");
  image[image.size() / 2] ^= 0x01;
  test::write_file(root_ / "tampered.bin", image);
  const SimRun tampered = run(url("tampered.bin"));
  ASSERT_EQ(tampered.exit_code, 0) << tampered.out;
  expect_lines(tampered.out, {"updater 1.0.0 running from user_0", "updater: job 1", "failed"});
  EXPECT_FALSE(tampered.has("rebooting")) << tampered.out;
  EXPECT_FALSE(tampered.has("updater 2.0.0")) << tampered.out;

  const SimRun outside = run(url("v2.bin", "updates.example.com"));
  ASSERT_EQ(outside.exit_code, 0) << outside.out;
  expect_lines(outside.out, {"updater 1.0.0 running from user_0", "updater: ota_start:"});
  EXPECT_FALSE(outside.has("rebooting")) << outside.out;
  EXPECT_EQ(server_.access_log().find("v2.bin"), std::string::npos) << "nothing was fetched";
}

TEST_F(Rv32OtaDevice, ACrashingV3IsRolledBack) {
  sign(PRIVOTA_RV32_CRASHER, "crasher", "3.0.0", "v3.bin");
  const SimRun run = this->run(url("v3.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  expect_lines(run.out, {"updater 1.0.0 running from user_0", "OTA job activated the new image",
                         "rebooting: job_activated", "trial of user_1 failed", "rolling back",
                         "updater 1.0.0 running from user_0"});
}

TEST_F(Rv32OtaDevice, APowerCutMidDownloadResumesWithRangeFromTheJournal) {
  // A rehearsal on a copy finds the flash write at which the download is under way.
  const fs::path start = dir_ / "start.bin";
  fs::copy_file(flash_, start);
  const fs::path events = dir_ / "events.jsonl";
  const SimRun rehearsal = run(url("v2.bin"), "--max-boots 1 --events " + events.string());
  std::ifstream in(events);
  // The write order is the same on every run: cutting just after a progress line that saw half the image
  // in flash cuts after the journal committed sectors, whatever the network's timing. The user app samples
  // its progress, so it may never print a line at half way (45% then verifying, 1 loop run in 24): then the
  // last line that saw at least one whole sector in flash, before the end.
  int half_way = 0, mid_download = 0;
  const std::regex progress(" ([0-9]+)/([0-9]+) downloading");
  for (std::string line; std::getline(in, line) && half_way == 0;) {
    const nlohmann::json e = nlohmann::json::parse(line);
    const std::string msg = e.value("msg", "");
    std::smatch m;
    if (!std::regex_search(msg, m, progress)) continue;
    const long done = std::stol(m[1].str()), total = std::stol(m[2].str());
    if (done < total && done * 2 >= total) half_way = e["flash_writes"].get<int>() + 1;
    if (done >= 4096 && done < total) mid_download = e["flash_writes"].get<int>() + 1;
  }
  const int cut = half_way != 0 ? half_way : mid_download;
  ASSERT_GT(cut, 0) << rehearsal.out;
  fs::copy_file(start, flash_, fs::copy_options::overwrite_existing);
  const SimRun cut_run = run(url("v2.bin"), "--power-cut-at " + std::to_string(cut));
  ASSERT_EQ(cut_run.exit_code, 3) << cut_run.out;
  EXPECT_FALSE(cut_run.has("OTA job ended")) << cut_run.out;

  const SimRun after = run(url("v2.bin"));
  ASSERT_EQ(after.exit_code, 0) << after.out;
  expect_lines(after.out,
               {"resumed OTA job", "updater: job 1 is already running: following it",
                "OTA job activated the new image", "started updater 2.0.0 from user_1 in U-mode, on trial",
                "the user app confirmed itself"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(after.out, match, std::regex("resumed from ([0-9]+)"))) << after.out;
  EXPECT_GT(std::stol(match[1].str()), 0) << "the transfer restarted with a Range request";
}

// The refusals a hostile or mistaken server causes that only the device's own checks can catch, through the
// whole device: each job fails with its code while v1 keeps running and nothing is selected (no reboot).
// The transport's rows (a truncated or stalled body, a longer body than its length, bad TLS) are
// net_transport_test.cpp's, against the same HttpsTransport.
TEST_F(Rv32OtaDevice, HostileUpdatesAreRefusedWithTheirReasonWhileV1Runs) {
  const fs::path stranger = dir_ / "stranger";
  fs::create_directories(stranger);
  run_steps({std::string(PRIVOTA_CLI) + " ca new -o " + (stranger / "ca").string(),
             std::string(PRIVOTA_CLI) + " key gen --type rsa3072 -o " + (stranger / "dev.pem").string(),
             std::string(PRIVOTA_CLI) + " ca issue --ca " + (stranger / "ca").string() + " --key " +
                 (stranger / "dev.pem").string() + " -o " + (stranger / "dev_uac.pem").string()});
  sign(PRIVOTA_RV32_UPDATER, "updater", "2.0.0", "chip.bin", {.chip = "esp32c3"});
  sign(PRIVOTA_RV32_UPDATER, "updater", "0.9.0", "older.bin");
  sign(PRIVOTA_RV32_UPDATER, "updater", "3.0.0", "floor.bin", {.secure_version = "0"});
  sign(PRIVOTA_RV32_UPDATER, "updater", "2.0.0", "stranger.bin", {.keys = stranger});
  std::vector<uint8_t> image = test::read_file(root_ / "v2.bin");
  image.resize(image.size() / 2 + 100);
  test::write_file(root_ / "short.bin", image);
  const struct {
    const char* file;
    const char* code;
  } rows[] = {{"missing.bin", "http_status"}, {"chip.bin", "wrong_chip"},  {"older.bin", "not_newer"},
              {"floor.bin", "rollback"},      {"short.bin", "bad_length"}, {"stranger.bin", "untrusted"}};
  for (const auto& row : rows) {
    const SimRun run = this->run(url(row.file));
    ASSERT_EQ(run.exit_code, 0) << row.file << "\n" << run.out;
    expect_lines(run.out,
                 {"updater 1.0.0 running from user_0", "updater: job 1",
                  (std::string("updater: job 1 failed: ") + row.code).c_str(), "halting: app_ended"});
    EXPECT_FALSE(run.has("rebooting")) << row.file << "\n" << run.out;
  }
}

// The protected firmware updates itself (the owner's request, privota-sim --protected-update), as on the host
// device: a background job into the passive ota slot, Secure Boot v2, otadata, a machine reset; the
// bootloader boots v2 on trial and v2 confirms itself once it has started the user app, which stays the same.
TEST_F(Rv32OtaDevice, ProtectedFirmwareUpdatesItselfThroughOtadataWhileTheUserAppStays) {
  serve_protected("protected_v2", "p2.bin");
  const SimRun run = power_on("--protected-update " + url("p2.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  expect_lines(
      run.out,
      {"ota_0: protected 0.1.0", "privota protected firmware 0.1.0 in ota_0",
       "the owner asks for a protected-firmware update from", "protected-firmware OTA job 1 started",
       "updater 1.0.0 running from user_0", "OTA job activated the new image", "rebooting: job_activated",
       "ota_1: protected 0.2.0, trial", "privota protected firmware 0.2.0 in ota_1", "on trial in ota_1",
       "protected firmware 0.2.0 in ota_1 passed its trial: marked valid",
       "started updater 1.0.0 from user_0 in U-mode", "updater 1.0.0 running from user_0",
       "halting: app_ended"});
  // The request reached the first power-on only; the second boot ran no job.
  EXPECT_EQ(run.out.find("the owner asks", run.out.find("rebooting")), std::string::npos) << run.out;

  const SimRun next = power_on("");
  ASSERT_EQ(next.exit_code, 0) << next.out;
  expect_lines(next.out, {"ota_1: protected 0.2.0, normal", "started updater 1.0.0 from user_0"});
  EXPECT_FALSE(next.has("on trial")) << next.out;
}

TEST_F(Rv32OtaDevice, ATamperedProtectedImageAndAnOlderOneAreRefusedWhileV1Runs) {
  std::vector<uint8_t> image = test::read_file(kDeviceDir / "images/protected_v2.signed.bin");
  image[image.size() / 2] ^= 0x01;
  test::write_file(root_ / "tampered.bin", image);
  const SimRun tampered = power_on("--protected-update " + url("tampered.bin"));
  // The device halts normally; the sim's exit code says the update the owner asked for did not happen.
  ASSERT_EQ(tampered.exit_code, 5) << tampered.out;
  // The job's failure is the sim's ota_failed event (a warning), and the reason the update did not happen.
  EXPECT_TRUE(tampered.has("!  protected  protected-level OTA job ended: failed")) << tampered.out;
  EXPECT_TRUE(
      tampered.has("--protected-update did not happen, the protected app was not updated: "
                   "protected-level OTA job ended: failed"))
      << tampered.out;
  expect_lines(tampered.out, {"protected-firmware OTA job 1 started", "updater 1.0.0 running from user_0",
                              "OTA job ended: failed", "halting: app_ended"});
  EXPECT_FALSE(tampered.has("rebooting")) << tampered.out;

  // The factory image is 0.1.0, as the running one: not newer, refused before anything is erased.
  serve_protected("protected", "p1.bin");
  const SimRun older = power_on("--protected-update " + url("p1.bin"));
  ASSERT_EQ(older.exit_code, 5) << older.out;
  expect_lines(older.out, {"protected-firmware OTA job 1 started", "OTA job ended: failed", "not_newer"});
  EXPECT_FALSE(older.has("rebooting")) << older.out;
}

// A protected v2 with a regression (it cannot start the user app) never confirms itself: its trial boots
// run out and the bootloader rolls back to v1, which starts the same user app.
TEST_F(Rv32OtaDevice, AProtectedV2ThatCannotStartTheUserAppIsRolledBack) {
  serve_protected("protected_no_user_start", "broken.bin");
  const SimRun run = power_on("--protected-update " + url("broken.bin"));
  ASSERT_EQ(run.exit_code, 5) << run.out;  // halted, but on v1: the update did not happen
  EXPECT_TRUE(run.has("the new protected app was rolled back")) << run.out;
  expect_lines(run.out, {"OTA job activated the new image", "ota_1: protected 0.2.0, trial",
                         "loading the user app: out_of_bounds", "rebooting: crash_loop",
                         "ota_0: protected 0.1.0, rolled_back", "gave up on ota_1",
                         "started updater 1.0.0 from user_0", "halting: app_ended"});
  EXPECT_FALSE(run.has("passed its trial")) << run.out;
}

// The owner's request is durable through its job's journal: after a power cut mid-download the next
// power-on, with no request, resumes the protected firmware's job with Range and installs v2.
TEST_F(Rv32OtaDevice, APowerCutDuringTheProtectedDownloadResumesWithoutTheRequest) {
  serve_protected("protected_v2", "p2.bin");
  const fs::path start = dir_ / "start.bin";
  fs::copy_file(flash_, start);
  const fs::path events = dir_ / "events.jsonl";
  const SimRun rehearsal =
      power_on("--protected-update " + url("p2.bin") + " --max-boots 1 --events " + events.string());
  // The job's flash writes are the same on every run: cutting halfway between its start and its end cuts
  // after the journal committed sectors.
  int started = 0, ended = 0;
  std::ifstream in(events);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json e = nlohmann::json::parse(line);
    const std::string msg = e.value("msg", "");
    if (msg.find("protected-firmware OTA job 1 started") != std::string::npos)
      started = e["flash_writes"].get<int>();
    if (msg.find("OTA job ended") != std::string::npos) ended = e["flash_writes"].get<int>();
  }
  ASSERT_GT(ended, started + 8) << rehearsal.out;
  fs::copy_file(start, flash_, fs::copy_options::overwrite_existing);
  const SimRun cut = power_on("--protected-update " + url("p2.bin") + " --power-cut-at " +
                              std::to_string((started + ended) / 2));
  ASSERT_EQ(cut.exit_code, 3) << cut.out;

  const SimRun after = power_on("");
  ASSERT_EQ(after.exit_code, 0) << after.out;
  expect_lines(after.out,
               {"resumed OTA job 1 (protected firmware) from its journal", "OTA job activated the new image",
                "ota_1: protected 0.2.0, trial", "protected firmware 0.2.0 in ota_1 passed its trial"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(after.out, match, std::regex("resumed from ([0-9]+)"))) << after.out;
  EXPECT_GT(std::stol(match[1].str()), 0) << "the transfer restarted with a Range request";
}

}  // namespace
}  // namespace privota
