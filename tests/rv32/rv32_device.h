// The rv32 device in QEMU for the tests (docs/rv32.md): a machine run on a copy of build/device-rv32's flash,
// its console and exit code; eFuse blocks for other device configurations; the example images.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/partition_table.h"
#include "test_support.h"

namespace privota {

namespace fs = std::filesystem;

inline const fs::path kDeviceDir = PRIVOTA_RV32_DEVICE_DIR;

// qemu-system-riscv32 -M virt with `kernel` in place of the reset stage and `flash` as the virtio flash;
// the UART on the command's output, or on another QEMU chardev (`serial`, e.g. file:PATH).
inline test::CommandResult run_machine(const std::string& kernel, const fs::path& flash,
                                       const std::string& extra, const std::string& serial = "stdio") {
  return test::run_command(
      std::string("timeout 60 ") + PRIVOTA_QEMU_RV32 + " -M virt -display none -serial " + serial +
      " -monitor none -bios none -kernel " + kernel + " " + extra + " -drive file=" + flash.string() +
      ",if=none,format=raw,id=flash -device virtio-blk-device,drive=flash -nic none </dev/null");
}

class Rv32Device : public testing::Test {
 protected:
  void SetUp() override { fs::copy_file(kDeviceDir / "flash.bin", flash_); }

  // Powers the machine on for one boot: until the firmware powers it off or resets it (-no-reboot: QEMU
  // then exits with 0 and the console says why), or 60 s pass (a hang is a failure too).
  test::CommandResult boot() { return boot_with(kDeviceDir / "efuse.bin"); }
  test::CommandResult boot_with(const fs::path& efuse) { return power_on(efuse, "-no-reboot"); }
  // Powers the machine on and lets the firmware's resets reboot it, until it powers itself off.
  test::CommandResult power_on(const fs::path& efuse, const std::string& extra = "",
                               const std::string& serial = "stdio") {
    return run_machine(PRIVOTA_RV32_BOOTLOADER, flash_,
                       "-device loader,file=" + efuse.string() +
                           ",addr=0x80040000,force-raw=on -global virtio-mmio.force-legacy=false " + extra,
                       serial);
  }

  // The eFuse and configuration block of build/device-rv32's device.json with `user_app` fields changed
  // (confirm_timeout_ms, crash_loop_limit, args).
  fs::path efuse_with(const nlohmann::json& user_app) {
    std::ifstream in(kDeviceDir / "device.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["user_app"]["ca_cert"] = (kDeviceDir / "keys/ca/ca_cert.pem").string();
    config["user_app"].update(user_app);
    const fs::path json = dir_ / "device.json";
    std::ofstream(json) << config.dump(2);
    const fs::path efuse = dir_ / "efuse.bin";
    const test::CommandResult made =
        test::run_command(std::string(PRIVOTA_RV32_EFUSE_TOOL) + " " + json.string() + " " + efuse.string());
    EXPECT_EQ(made.exit_code, 0) << made.out;
    return efuse;
  }

  // An example user app (build/device-rv32/images) into user_0, as the factory would.
  void write_user_app(const std::string& name) {
    run_steps({std::string(PRIVOTA_CLI) + " flash write " + flash_.string() + " --partition user_0 " +
               (kDeviceDir / "images" / (name + ".signed.bin")).string()});
  }
  // An example user app installed as an update: the passive user slot, selected as NEW (on trial next).
  void install_user_update(const std::string& name) {
    run_steps({std::string(PRIVOTA_CLI) + " flash ota " + flash_.string() +
               " --level user --chip qemu-rv32 --ca " + (kDeviceDir / "keys/ca").string() + " " +
               (kDeviceDir / "images" / (name + ".signed.bin")).string()});
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

inline void expect_lines(const std::string& out, std::initializer_list<const char*> lines) {
  size_t from = 0;
  for (const char* line : lines) {
    const size_t at = out.find(line, from);
    ASSERT_NE(at, std::string::npos) << "missing, in order: '" << line << "'\n--- console ---\n" << out;
    from = at + std::char_traits<char>::length(line);
  }
}

}  // namespace privota
