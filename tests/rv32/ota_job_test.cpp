// The background OTA job on the rv32 device (docs/rv32-network.md, "The background OTA job"): ota_job
// (tests/rv32/ota) runs OtaService with Rv32JobRunner on QEMU's virt machine, with the device's flash file
// on virtio-blk and the network restricted to nginx on 127.0.0.1 (guestfwd through socat, as in
// net_transport_test.cpp). Its main loop counts rounds while the job downloads a signed user-app image
// into the passive slot user_1, verifies and selects it; the test reads the flash file afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "https_server.h"
#include "privota/host/timed_flash.h"
#include "test_support.h"

namespace privota {
namespace {

namespace fs = std::filesystem;
using test::NginxServer;
using test::TestPki;

const fs::path kDeviceDir = PRIVOTA_RV32_DEVICE_DIR;

struct Boot {
  int exit_code = -1;
  std::string out;
  // The numbers of "ota_job: KEY ... LABEL N" lines: value("end", "received").
  long value(const std::string& line, const std::string& label) const {
    std::smatch match;
    const std::regex pattern("ota_job: " + line + "[^\n]* " + label + " ([0-9]+)");
    return std::regex_search(out, match, pattern) ? std::stol(match[1].str()) : -1;
  }
  bool has(const std::string& text) const { return out.find(text) != std::string::npos; }
  std::string line(const std::string& key) const {
    std::smatch match;
    const std::regex pattern("ota_job: " + key + ":? ([^\n]*)");
    return std::regex_search(out, match, pattern) ? match[1].str() : std::string();
  }
};

class Rv32OtaJob : public testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(kDeviceDir / "flash.bin", flash_);
    // The update: a user-app image of 80 KB (the protected firmware's ELF packaged as a user app, for its
    // size: twenty flash sectors), version 9.9.9 > the running probe's, signed with the device's user-app
    // certificate.
    const std::string cli = PRIVOTA_CLI;
    const std::string keys = (kDeviceDir / "keys").string();
    const std::string raw = (dir_ / "update.bin").string();
    for (const std::string& step :
         {cli +
              " image build --elf " PRIVOTA_RV32_PROTECTED
              " --chip qemu-rv32 --version 9.9.9 --secure-version 1 --project update -o " +
              raw,
          cli + " image sign --scheme user-cert --key " + keys + "/dev.pem --cert " + keys + "/dev_uac.pem " +
              raw + " -o " + (root_ / "update.signed.bin").string()}) {
      const test::CommandResult done = test::run_command(step);
      ASSERT_EQ(done.exit_code, 0) << step << "\n" << done.out;
    }
    image_ = test::read_file(root_ / "update.signed.bin");
  }

  // One power-on of ota_job with these argument lines (plus the host table, the URL policy and the CA).
  Boot boot(const std::string& lines) {
    const std::string p = std::to_string(server_.port());
    std::string args = lines + "host localhost 10.0.2.100\nallow-host localhost\nallow-port " + p + "\nca\n";
    for (uint8_t byte : test::read_file(TestPki::get().ca_pem))
      args += static_cast<char>(byte);
    args += '\0';
    test::write_text(dir_ / "args.txt", args);
    const test::CommandResult run = test::run_command(
        std::string("timeout 120 ") + PRIVOTA_QEMU_RV32 +
        " -M virt -display none -serial stdio -monitor none -bios none -kernel " PRIVOTA_RV32_OTA_JOB
        " -device loader,file=" +
        (dir_ / "args.txt").string() + ",addr=0x80800000,force-raw=on -device loader,file=" +
        (kDeviceDir / "efuse.bin").string() + ",addr=0x80A00000,force-raw=on -drive file=" + flash_.string() +
        ",if=none,format=raw,id=flash -device virtio-blk-device,drive=flash"
        " -global virtio-mmio.force-legacy=false -netdev user,id=n,restrict=on,guestfwd=tcp:10.0.2.100:" +
        p + "-cmd:'socat -lf /dev/null - TCP:127.0.0.1:" + p +
        "' -device virtio-net-device,netdev=n -device virtio-rng-device " + extra_ + " </dev/null");
    return {run.exit_code, run.out};
  }
  std::string url(const std::string& path, const std::string& host = "localhost") const {
    return "url https://" + host + ":" + std::to_string(server_.port()) + "/" + path + "\n";
  }
  // The slot the user level's selection boots, as `privota flash show` prints it ("selects: ...").
  std::string user_selection() const {
    const test::CommandResult show =
        test::run_command(std::string(PRIVOTA_CLI) + " flash show " + flash_.string());
    EXPECT_EQ(show.exit_code, 0) << show.out;
    const size_t user = show.out.find("'uotadata'");
    std::smatch match;
    const std::string tail = user == std::string::npos ? "" : show.out.substr(user);
    const std::regex pattern("selects: ([^\n]*)");
    if (!std::regex_search(tail, match, pattern)) return "(no selection line)";
    // A uotadata without a valid entry boots the first slot: the same choice as one that names user_0 (the
    // job's journal shares uotadata's sectors, so the text may change from one to the other).
    return match[1].str().rfind("nothing", 0) == 0 ? "user_0" : match[1].str();
  }
  std::vector<uint8_t> user_1(size_t n) const {
    const std::vector<uint8_t> flash = test::read_file(flash_);
    const size_t offset = 0x360000;  // user_1 in examples/device/partitions.csv
    return {flash.begin() + static_cast<long>(offset), flash.begin() + static_cast<long>(offset + n)};
  }

  test::TempDir dir_;
  test::TempDir root_;
  fs::path flash_ = dir_ / "flash.bin";
  std::vector<uint8_t> image_;
  NginxServer server_{root_.path()};
  std::string extra_;
};

TEST_F(Rv32OtaJob, DownloadsInTheBackgroundVerifiesAndSelectsTheImage) {
  const std::string before = user_selection();
  const Boot r = boot(url("update.signed.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.has("ota_job: activated")) << r.out;
  EXPECT_EQ(before, "user_0");
  EXPECT_EQ(r.value("end", "total"), static_cast<long>(image_.size())) << r.out;
  EXPECT_EQ(r.value("end", "done"), static_cast<long>(image_.size())) << r.out;
  // The passive slot holds the image, and the user selection now names it (a NEW trial).
  EXPECT_EQ(user_1(image_.size()), image_);
  const std::string after = user_selection();
  EXPECT_NE(after, before);
  EXPECT_NE(after.find("user_1"), std::string::npos) << after;
  // The main loop went round all the time: many rounds, none of them waiting for the download.
  const long rounds = r.value("main loop", "rounds");
  const long gap = r.value("main loop", "longest_gap_ms");
  const long took = r.value("main loop", "took_ms");
  std::cout << "ota_job: " << rounds << " main-loop rounds, longest gap " << gap << " ms, job " << took
            << " ms\n";
  std::cout << "ota_job: longest gap (ms) by state " << r.line("longest gap ms by state") << "; ms by state "
            << r.line("ms by state") << "\n";
  // Every network wait is a turn: without the wait hook the main loop goes round only once per flash
  // operation (~640 times for this image), with it many thousand times.
  EXPECT_GT(rounds, 1000) << r.out;
  // The wall-clock gaps above are printed, not asserted: on a shared host they carry its scheduling (a test
  // asserts no timing; docs/rv32-network.md gives the measured figures). The job must have spent time
  // downloading, or the round count above would prove nothing about the download.
  EXPECT_GT(r.value("ms by state", "downloading"), 0) << r.out;
  // The handshake's ECC work came in bounded steps, each followed by a main-loop turn (restartable ECC), not
  // in one piece: an ECDHE-ECDSA handshake is about six P-256 multiplications of ~3,300 operations, in steps
  // of 500.
  std::smatch steps;
  ASSERT_TRUE(std::regex_search(r.out, steps, std::regex("ota_job: tls: handshake steps ([0-9]+)"))) << r.out;
  std::cout << steps[0].str() << "\n";
  EXPECT_GE(std::stol(steps[1].str()), 20) << r.out;
  std::smatch ram;
  ASSERT_TRUE(std::regex_search(r.out, ram, std::regex("ota_job: ram: [^\n]*"))) << r.out;
  std::cout << ram[0].str() << "\n";
  std::cout << "ota_job: job stack peak by state " << r.line("job stack peak by state") << "\n";
  EXPECT_GT(r.value("job stack peak by state", "downloading"), 0) << r.out;
  // The job's RAM without TLS: the runner (its 1 KiB chunk buffer, SHA-256 context, the request) and the
  // job stack's peak in the states that hold no TLS session. The signature check is not the job's: the
  // runner hands it to the main loop, which runs it on its own stack, in the firmware's 4 KiB scratch and
  // crypto heap, as it checks the user app at boot; its heap (above the user-app CA the firmware keeps
  // parsed) is reported apart. So is TLS: what a connection adds to the heap, and the transport object.
  long stack = 0;
  for (const char* state : {"queued", "verifying", "activating"})
    stack = std::max(stack, r.value("job stack peak by state", state));
  const long runner = r.value("ram", "runner");
  const long check_heap = r.value("ram", "heap peak without TLS") - r.value("ram", "heap user-app CA");
  const long tls = r.value("ram", "heap peak with TLS") - r.value("ram", "heap peak without TLS");
  std::cout << "ota_job: job RAM without TLS " << runner + stack << " B (runner " << runner
            << " + stack peak " << stack << "); signature check on the main loop apart: heap " << check_heap
            << " B; TLS apart: heap " << tls << " B + transport " << r.value("ram", "transport") << " B\n";
  EXPECT_GT(stack, 0) << r.out;
  // Issue 14's budget: 8 KiB without TLS. Stack peaks repeat from run to run (the same code path paints the
  // same bytes), so growing past it is a change to look at, not noise.
  EXPECT_LE(runner + stack, 8 * 1024) << r.out;
  // The check ran once, on the main loop, for the one image the job verified.
  EXPECT_EQ(r.value("signature checks", "on the main loop"), 1) << r.out;
  // The flash device time of the update on the W25Q32JV timing model (the host's TimedFlash figures).
  const host::FlashTiming t;
  const long read = r.value("flash ops", "bytes_read");
  const long pages = r.value("flash ops", "pages_programmed");
  const long sectors = r.value("flash ops", "sector_erases");
  const long blocks = r.value("flash ops", "block_erases");
  const double ms =
      (static_cast<double>(read) * t.read_us_per_byte + static_cast<double>(pages) * t.page_program_us +
       static_cast<double>(sectors) * t.sector_erase_us + static_cast<double>(blocks) * t.block_erase_us) /
      1000;
  std::cout << "ota_job: flash device time " << static_cast<long>(ms) << " ms on the W25Q32JV timing model ("
            << sectors << " sector and " << blocks << " block erases, " << pages << " pages programmed, "
            << read << " B read)\n";
  // Every page of the image was programmed, and the slot was read back for verification.
  EXPECT_GE(pages, static_cast<long>(image_.size() / 256)) << r.out;
  EXPECT_GE(read, static_cast<long>(image_.size())) << r.out;
}

TEST_F(Rv32OtaJob, TamperedImageIsRefusedAndTheSelectionStays) {
  // One byte of a segment changed after signing: the download completes, the core's verification fails.
  std::vector<uint8_t> tampered = image_;
  tampered[tampered.size() / 2] ^= 0x01;
  test::write_file(root_ / "tampered.bin", tampered);
  const std::string before = user_selection();
  const Boot r = boot(url("tampered.bin"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(r.has("ota_job: end failed")) << r.out;
  EXPECT_FALSE(r.has("ota_job: outcome: ok")) << r.out;
  EXPECT_TRUE(r.has("ota_job: not activated")) << r.out;
  EXPECT_EQ(user_selection(), before);
}

TEST_F(Rv32OtaJob, CancelMidDownloadStopsTheJobAndClosesItsJournal) {
  const std::string before = user_selection();
  const Boot r = boot(url("update.signed.bin") + "cancel-at 16384\n");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(r.has("ota_job: cancel: ok")) << r.out;
  EXPECT_TRUE(r.has("ota_job: end cancelled")) << r.out;
  EXPECT_TRUE(r.has("ota_job: outcome: cancelled")) << r.out;
  const long done = r.value("end", "done");
  EXPECT_GE(done, 16384) << r.out;
  EXPECT_LT(done, static_cast<long>(image_.size())) << r.out;
  EXPECT_EQ(user_selection(), before);
  // The owner cancelled: the journal is closed, so the next boot has nothing to resume.
  const Boot again = boot("");
  EXPECT_EQ(again.exit_code, 5) << again.out;
  EXPECT_TRUE(again.has("ota_job: start: not_found")) << again.out;
}

TEST_F(Rv32OtaJob, UrlOutsideThePolicyIsRefusedBeforeAnyByteMoves) {
  const std::string before = user_selection();
  // otherhost resolves (the host table names it) and its certificate would not even be asked for: the
  // policy allows only localhost.
  const Boot r = boot(url("update.signed.bin", "otherhost") + "host otherhost 10.0.2.100\n");
  EXPECT_EQ(r.exit_code, 5) << r.out;
  EXPECT_TRUE(r.has("ota_job: start: url_")) << r.out;
  EXPECT_FALSE(r.has("ota_job: started job")) << r.out;
  EXPECT_EQ(server_.access_log(), "");
  EXPECT_EQ(user_selection(), before);
}

TEST_F(Rv32OtaJob, PowerCutMidDownloadResumesWithRangeFromTheLastCommittedSector) {
  // The first power-on stops dead (no journal closed, nothing flushed) once 40,000 bytes are in flash.
  const Boot cut = boot(url("update.signed.bin") + "stop-at 40000\n");
  ASSERT_EQ(cut.exit_code, 6) << cut.out;
  const long first = cut.value("power cut at", "received");
  ASSERT_GE(first, 40000) << cut.out;
  const std::string before = user_selection();
  // The next power-on resumes from the journal with Range.
  const Boot again = boot("");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(again.has("ota_job: resumed job")) << again.out;
  EXPECT_TRUE(again.has("ota_job: activated")) << again.out;
  const long from = again.value("end", "resumed_from");
  EXPECT_GT(from, 0) << again.out;
  EXPECT_EQ(from % 4096, 0) << again.out;
  EXPECT_NE(server_.access_log().find("\" 206 "), std::string::npos) << server_.access_log();
  EXPECT_EQ(user_1(image_.size()), image_);
  EXPECT_NE(user_selection(), before);
  EXPECT_NE(user_selection().find("user_1"), std::string::npos);
  const long twice = first + again.value("end", "received") - static_cast<long>(image_.size());
  std::cout << "ota_job: power cut after " << first << " bytes received, resumed from " << from << ", "
            << twice << " bytes downloaded twice\n";
  EXPECT_GE(twice, 0);
  EXPECT_LE(twice, 4096);
}

TEST_F(Rv32OtaJob, CountsTheInstructionsOfTheJobUnderIcount) {
  // With -icount shift=0 QEMU counts instructions exactly (minstret) and its clock runs one ns per
  // instruction. The count covers the job's turns only: TCP/IP, one TLS handshake, the HTTP client, the
  // flash writes and journal, and the core's verification of the whole image.
  extra_ = "-icount shift=0";
  const Boot r = boot(url("update.signed.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const long thousands = r.value("instructions in the job", "thousands");
  const long per_kib = r.value("instructions", "per_kib_received");
  std::cout << "ota_job: " << thousands << " thousand instructions in the job, " << per_kib
            << " per KiB received (" << image_.size() << " bytes)\n";
  std::cout << "ota_job: by state (thousands) " << r.line("instructions by state thousands") << "\n";
  std::cout << "ota_job: work (idle turns removed) " << r.line("work by state thousands") << "\n";
  const long flash = r.value("instructions in the flash driver", "thousands");
  std::cout << "ota_job: " << flash
            << " thousand of them in the flash driver (polling virtio-blk); the rest per KiB: "
            << (thousands - flash) * 1000 / static_cast<long>(image_.size() / 1024) << "\n";
  const long connecting = r.value("instructions by state thousands", "connecting");
  std::cout << "ota_job: without the TLS handshake (" << connecting
            << " thousand) and the flash polling, per KiB "
            << "downloaded and verified: "
            << (thousands - flash - connecting) * 1000 / static_cast<long>(image_.size() / 1024) << "\n";
  EXPECT_GT(thousands, 1000) << r.out;
  EXPECT_GT(r.value("instructions by state thousands", "downloading"), 0) << r.out;
  EXPECT_GT(per_kib, 0) << r.out;
}

TEST_F(Rv32OtaJob, ASuspendedJobKeepsItsJournalAndTheNextBootResumesIt) {
  // OtaService::suspend (the device reboots or halts) stops the job between turns with its journal live.
  const Boot first = boot(url("update.signed.bin") + "suspend-at 20000\n");
  ASSERT_EQ(first.exit_code, 1) << first.out;
  EXPECT_TRUE(first.has("ota_job: end cancelled")) << first.out;
  EXPECT_EQ(user_selection(), "user_0");
  const Boot again = boot("");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(again.has("ota_job: resumed job")) << again.out;
  EXPECT_GE(again.value("end", "resumed_from"), 16384) << again.out;
  EXPECT_EQ(user_1(image_.size()), image_);
  EXPECT_NE(user_selection().find("user_1"), std::string::npos);
}

}  // namespace
}  // namespace privota
