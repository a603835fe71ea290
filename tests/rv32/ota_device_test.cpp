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

class Rv32OtaDevice : public Rv32Device {
 protected:
  void SetUp() override {
    Rv32Device::SetUp();
    write_user_app("updater");  // v1.0.0, the factory app
    sign(PRIVOTA_RV32_UPDATER, "updater", "2.0.0", "v2.bin");
  }

  // `elf` as a signed user-app image `version` at https://localhost:PORT/`file`.
  void sign(const char* elf, const std::string& project, const std::string& version,
            const std::string& file) {
    const std::string keys = (kDeviceDir / "keys").string();
    const std::string raw = (dir_ / "raw.bin").string();
    run_steps({std::string(PRIVOTA_CLI) + " image build --elf " + elf + " --chip qemu-rv32 --version " +
                   version + " --secure-version 1 --project " + project + " -o " + raw + " --force",
               std::string(PRIVOTA_CLI) + " image sign --scheme user-cert --key " + keys +
                   "/dev.pem --cert " + keys + "/dev_uac.pem " + raw + " -o " + (root_ / file).string()});
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
    const test::CommandResult done =
        test::run_command(std::string("timeout 300 ") + PRIVOTA_SIM + " run " + flash_.string() +
                          " --config " + config().string() + " --machine rv32 --bootloader " +
                          PRIVOTA_RV32_BOOTLOADER + " --qemu " + PRIVOTA_QEMU_RV32 + " --net-forward " +
                          std::to_string(server_.port()) + " --user-arg " + update + " " + extra);
    return {done.exit_code, done.out};
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
  // in flash cuts after the journal committed sectors, whatever the network's timing.
  int cut = 0;
  const std::regex half(" ([0-9]+)/([0-9]+) downloading");
  for (std::string line; std::getline(in, line) && cut == 0;) {
    const nlohmann::json e = nlohmann::json::parse(line);
    const std::string msg = e.value("msg", "");
    std::smatch m;
    if (std::regex_search(msg, m, half) && std::stol(m[1].str()) * 2 >= std::stol(m[2].str()))
      cut = e["flash_writes"].get<int>() + 1;
  }
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

}  // namespace
}  // namespace privota
