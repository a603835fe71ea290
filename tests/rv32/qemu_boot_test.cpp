// The rv32 device boots in QEMU's virt machine (docs/rv32.md): the bootloader verifies the protected
// firmware with Secure Boot v2 and jumps to it; the firmware verifies the user app with its certificate,
// starts it in U-mode behind PMP and serves its ecall system calls. A damaged protected image is refused
// (the other slot boots), and a user app touching protected RAM is caught. Each test runs on its own copy of
// build/device-rv32/flash.bin.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/partition_table.h"
#include "test_support.h"

namespace privota {
namespace {

namespace fs = std::filesystem;

const fs::path kDeviceDir = PRIVOTA_RV32_DEVICE_DIR;

// qemu-system-riscv32 -M virt with `kernel` in place of the reset stage and `flash` as the virtio flash.
test::CommandResult run_machine(const std::string& kernel, const fs::path& flash, const std::string& extra) {
  return test::run_command(
      std::string("timeout 60 ") + PRIVOTA_QEMU_RV32 +
      " -M virt -display none -serial stdio -monitor none -bios none -kernel " + kernel + " " + extra +
      " -drive file=" + flash.string() +
      ",if=none,format=raw,id=flash -device virtio-blk-device,drive=flash -nic none </dev/null");
}

class Rv32Device : public testing::Test {
 protected:
  void SetUp() override { fs::copy_file(kDeviceDir / "flash.bin", flash_); }

  // Powers the machine on until the firmware powers it off (or 60 s pass: a hang is a failure too).
  test::CommandResult boot() { return boot_with(kDeviceDir / "efuse.bin"); }
  test::CommandResult boot_with(const fs::path& efuse) {
    return run_machine(PRIVOTA_RV32_BOOTLOADER, flash_,
                       "-device loader,file=" + efuse.string() +
                           ",addr=0x80040000,force-raw=on -global virtio-mmio.force-legacy=false");
  }

  // Runs each command line; the test stops at the first that fails.
  void run_steps(std::initializer_list<std::string> steps) {
    for (const std::string& step : steps) {
      const test::CommandResult done = test::run_command(step);
      ASSERT_EQ(done.exit_code, 0) << step << "\n" << done.out;
    }
  }

  uint32_t partition_offset(const char* name) {
    Result<host::FileFlash> flash = host::FileFlash::open(flash_);
    EXPECT_TRUE(flash.is_ok());
    host::MbedMd5 md5;
    const Result<PartitionTable> table = PartitionTable::read(flash.value(), md5);
    EXPECT_TRUE(table.is_ok());
    const Partition* partition = table->find(name);
    EXPECT_NE(partition, nullptr) << name;
    return partition == nullptr ? 0 : partition->offset;
  }

  // Flips one byte inside the image of `partition` (past the headers: in segment data).
  void damage(const char* partition) {
    const uint32_t at = partition_offset(partition) + 0x400;
    std::fstream file(flash_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(at);
    const int byte = file.get();
    file.seekp(at);
    file.put(static_cast<char>(byte ^ 0x01));
  }

  test::TempDir dir_;
  fs::path flash_ = dir_ / "flash.bin";
};

void expect_lines(const std::string& out, std::initializer_list<const char*> lines) {
  size_t from = 0;
  for (const char* line : lines) {
    const size_t at = out.find(line, from);
    ASSERT_NE(at, std::string::npos) << "missing, in order: '" << line << "'\n--- console ---\n" << out;
    from = at + std::char_traits<char>::length(line);
  }
}

TEST_F(Rv32Device, BootloaderVerifiesTheFirmwareWhichRunsTheUserAppInUserMode) {
  const test::CommandResult run = boot();
  expect_lines(
      run.out,
      {"bootloader: privota rv32", "bootloader: ota_0: protected " PRIVOTA_VERSION, "Secure Boot v2 verified",
       "bootloader: jumping to 0x8010", "protected: privota protected firmware " PRIVOTA_VERSION " in ota_0",
       "protected: user_0: probe " PRIVOTA_VERSION, "user-app certificate verified",
       "protected: entering the user app at 0x8020", "user: probe: hello from U-mode",
       "user: probe: I am probe " PRIVOTA_VERSION, "user: probe: confirmed",
       "protected: refused a system call whose frame is outside the user region",
       "protected: refused a system call whose frame is outside the user region",
       "user: probe: bad frame pointers refused", "protected: user app exited with 0 (preempted "});
  EXPECT_EQ(run.out.find("(preempted 0 times"), std::string::npos)
      << "the timer never preempted the user app\n"
      << run.out;
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, ConfirmedUserAppBootsAsNormalOnTheNextPowerOn) {
  ASSERT_EQ(boot().exit_code, 0);
  const test::CommandResult second = boot();
  expect_lines(second.out,
               {"protected: user_0: probe " PRIVOTA_VERSION ", normal", "user: probe: confirmed"});
  EXPECT_EQ(second.exit_code, 0) << second.out;
}

TEST_F(Rv32Device, TamperedProtectedFirmwareIsRefusedAndTheOtherSlotBoots) {
  damage("ota_0");
  const test::CommandResult run = boot();
  // Nothing is selected yet (factory otadata), so the bootloader takes the first slot that verifies.
  expect_lines(run.out, {"bootloader: ota_1: protected", "Secure Boot v2 verified",
                         "protected: privota protected firmware " PRIVOTA_VERSION " in ota_1",
                         "user: probe: confirmed"});
  EXPECT_EQ(run.out.find("bootloader: ota_0"), std::string::npos) << run.out;
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, NothingBootsWhenBothProtectedSlotsAreTampered) {
  damage("ota_0");
  damage("ota_1");
  const test::CommandResult run = boot();
  expect_lines(run.out, {"bootloader: no protected app to boot: not_found"});
  EXPECT_EQ(run.out.find("protected: privota"), std::string::npos) << run.out;
  EXPECT_EQ(run.exit_code, 2) << run.out;
}

TEST_F(Rv32Device, ImageForAnotherChipIsRolledBackWithTheReason) {
  // The same firmware, built and signed for an ESP32-C3, installed as an OTA of the protected app (NEW).
  const std::string cli = PRIVOTA_CLI;
  const std::string keys = (kDeviceDir / "keys").string();
  for (const std::string& step :
       {cli +
            " image build --elf " PRIVOTA_RV32_PROTECTED " --chip esp32c3 --version 9.9.9 --project c3 -o " +
            (dir_ / "c3.bin").string(),
        cli + " image sign --scheme secure-boot-v2 --key " + keys + "/owner.pem " +
            (dir_ / "c3.bin").string() + " -o " + (dir_ / "c3.signed.bin").string(),
        cli + " flash ota " + flash_.string() + " --level protected --chip esp32c3 --key " + keys +
            "/owner.pem " + (dir_ / "c3.signed.bin").string()}) {
    const test::CommandResult done = test::run_command(step);
    ASSERT_EQ(done.exit_code, 0) << step << "\n" << done.out;
  }
  const test::CommandResult run = boot();
  expect_lines(run.out, {"bootloader: ota_0: protected " PRIVOTA_VERSION ", rolled_back",
                         "bootloader: gave up on ota_1: wrong_chip", "user: probe: confirmed"});
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, BootsFirmwareSignedWithAnEcdsaKeyTheEfuseTrusts) {
  // A device whose eFuse trusts one ECDSA P-256 key, and the firmware signed with it in both slots.
  const std::string cli = PRIVOTA_CLI;
  const std::string d = dir_.path().string();
  run_steps({cli + " key gen --type ecdsa-p256 -o " + d + "/ec.pem",
             cli +
                 " image build --elf " PRIVOTA_RV32_PROTECTED
                 " --chip qemu-rv32 --version 2.0.0 --project ec -o " +
                 d + "/ec.bin",
             cli + " image sign --scheme secure-boot-v2 --key " + d + "/ec.pem " + d + "/ec.bin -o " + d +
                 "/ec.signed.bin",
             cli + " flash write " + flash_.string() + " --partition ota_0 " + d + "/ec.signed.bin",
             cli + " config new --chip qemu-rv32 --key " + d + "/ec.pem --user-ca " +
                 (kDeviceDir / "keys/ca").string() + " -o " + d + "/device.json",
             std::string(PRIVOTA_RV32_EFUSE_TOOL) + " " + d + "/device.json " + d + "/efuse.bin"});
  if (HasFatalFailure()) return;
  const test::CommandResult run = boot_with(dir_ / "efuse.bin");
  // ota_1 still holds the RSA-signed firmware, which this eFuse does not trust.
  expect_lines(run.out, {"bootloader: ota_0: ec 2.0.0, fallback, Secure Boot v2 verified",
                         "protected: privota protected firmware 2.0.0 in ota_0", "user: probe: confirmed"});
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST_F(Rv32Device, UserAppReadingProtectedRamIsCaughtByPmp) {
  const test::CommandResult write =
      test::run_command(std::string(PRIVOTA_CLI) + " flash write " + flash_.string() +
                        " --partition user_0 " + (kDeviceDir / "images/probe_fault.signed.bin").string());
  ASSERT_EQ(write.exit_code, 0) << write.out;
  const test::CommandResult run = boot();
  expect_lines(run.out, {"user: probe: reading protected RAM",
                         "protected: user app fault: load access fault mepc=0x8020", "mtval=0x80100000"});
  EXPECT_EQ(run.exit_code, 4) << run.out;
}

TEST(Rv32Flash, VirtioFlashKeepsNorRulesOnTheMachine) {
  test::TempDir dir;
  const fs::path flash = dir / "flash.bin";
  test::write_file(flash, std::vector<uint8_t>(64 * 1024, 0));
  const test::CommandResult run =
      run_machine(PRIVOTA_RV32_FLASH_CHECK, flash, "-global virtio-mmio.force-legacy=false");
  EXPECT_NE(run.out.find("flash_check: 19 checks, 0 failed"), std::string::npos) << run.out;
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST(Rv32Flash, LegacyVirtioIsRefusedWithTheQemuOptionToUse) {
  test::TempDir dir;
  const fs::path flash = dir / "flash.bin";
  test::write_file(flash, std::vector<uint8_t>(64 * 1024, 0));
  const test::CommandResult run = run_machine(PRIVOTA_RV32_FLASH_CHECK, flash, "");
  EXPECT_NE(run.out.find("legacy virtio-mmio; start QEMU with -global virtio-mmio.force-legacy=false"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.exit_code, 2) << run.out;
}

}  // namespace
}  // namespace privota
