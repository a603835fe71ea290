// The `privota` CLI as a user runs it: a real process, real files, exit codes and the one-line errors.
#include <gtest/gtest.h>

#include "privota/host/device_config.h"

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace privota {
namespace {

using test::run_command;

std::string cli(const std::string& args) {
  return std::string(PRIVOTA_CLI) + " " + args;
}

class Cli : public testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir_ / "payload.bin", std::string(5000, 'x'));
    ASSERT_EQ(run(cli("flash new --table " + seed() + " --size 4MB -o " + path("flash.bin"))).exit_code, 0);
    ASSERT_EQ(
        run(cli("image build --payload " + path("payload.bin") +
                " --version 2.0.1 --secure-version 4 --project hello --chip esp32c3 -o " + path("app.bin")))
            .exit_code,
        0);
  }

  test::CommandResult run(const std::string& command) {
    test::CommandResult result = run_command(command);
    last_ = result.out;
    return result;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string seed() { return std::string(PRIVOTA_SOURCE_DIR) + "/examples/device/partitions.csv"; }
  nlohmann::json json_of(const std::string& args) {
    const test::CommandResult r = run(cli(args + " --json"));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return nlohmann::json::parse(r.out);
  }

  test::TempDir dir_;
  std::string last_;
};

TEST_F(Cli, EveryCommandHasHelp) {
  for (const char* command : {"",
                              "partition",
                              "partition gen",
                              "partition show",
                              "image",
                              "image build",
                              "image info",
                              "image sign",
                              "image verify",
                              "flash",
                              "flash new",
                              "flash write",
                              "flash show",
                              "flash read",
                              "flash ota",
                              "flash boot",
                              "flash confirm",
                              "flash reject",
                              "key",
                              "key gen",
                              "key digest",
                              "ca",
                              "ca new",
                              "ca issue",
                              "config",
                              "config new"}) {
    const test::CommandResult r = run(cli(std::string(command) + " --help"));
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << command;
  }
}

TEST_F(Cli, ConfigNewWritesADeviceConfigTheSimLoads) {
  ASSERT_EQ(run(cli("key gen --type ecdsa-p256 -o " + path("owner.pem"))).exit_code, 0) << last_;
  ASSERT_EQ(run(cli("ca new -o " + path("ca"))).exit_code, 0) << last_;
  const std::string base = "config new --key " + path("owner.pem") + " --user-ca " + path("ca") +
                           " --allow-host 127.0.0.1 --allow-port 8443 -o " + path("device.json");
  ASSERT_EQ(run(cli(base)).exit_code, 0) << last_;
  const host::DeviceConfig c = host::DeviceConfig::load(dir_ / "device.json");
  EXPECT_EQ(c.secure_boot.key_digests.size(), 1u);
  EXPECT_EQ(c.ota.allowed_hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c.ota.allowed_ports, std::vector<uint16_t>{8443});
  EXPECT_NE(c.user_app.ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  // Never over an existing file by accident; a setting the device would refuse is refused here.
  EXPECT_EQ(run(cli(base)).exit_code, 1);
  EXPECT_NE(last_.find("exists; use --force"), std::string::npos) << last_;
  EXPECT_EQ(run(cli(base + " --force --max-url-length 600")).exit_code, 1);
  EXPECT_NE(last_.find("max_url_length must be 1..479"), std::string::npos) << last_;
  EXPECT_EQ(run(cli("config new --user-ca " + path("ca") + " -o " + path("d2.json"))).exit_code, 1);
  EXPECT_NE(last_.find("key_digests is empty"), std::string::npos) << last_;
}

TEST_F(Cli, PartitionGenRoundTripsCsvAndBinary) {
  ASSERT_EQ(run(cli("partition gen " + seed() + " -o " + path("t.bin"))).exit_code, 0) << last_;
  ASSERT_EQ(run(cli("partition gen " + path("t.bin") + " -o " + path("t.csv"))).exit_code, 0) << last_;
  ASSERT_EQ(run(cli("partition gen " + path("t.csv") + " -o " + path("t2.bin"))).exit_code, 0) << last_;
  EXPECT_EQ(test::read_file(dir_ / "t.bin"), test::read_file(dir_ / "t2.bin"));
  EXPECT_EQ(test::read_file(dir_ / "t.bin").size(), 0xC00u);
}

TEST_F(Cli, PartitionShowReadsTablesFlashImagesAndCsv) {
  ASSERT_EQ(run(cli("partition gen " + seed() + " -o " + path("t.bin"))).exit_code, 0);
  for (const std::string& input : {path("t.bin"), path("flash.bin"), seed()}) {
    const nlohmann::json j = json_of("partition show " + input);
    ASSERT_EQ(j["partitions"].size(), 9u) << input;
    EXPECT_EQ(j["partitions"][8]["name"], "fleet");  // the fleet agent's job record (docs/fleet.md)
    EXPECT_EQ(j["partitions"][3]["name"], "uotadata");
    EXPECT_EQ(j["partitions"][3]["subtype"], "user_ota");
    EXPECT_EQ(j["partitions"][6]["offset"], 0x320000);
  }
  const test::CommandResult text = run(cli("partition show " + path("flash.bin")));
  EXPECT_NE(text.out.find("user_1            app   user_1"), std::string::npos) << text.out;
}

TEST_F(Cli, ImageInfoShowsTheDescriptor) {
  const nlohmann::json j = json_of("image info " + path("app.bin"));
  EXPECT_EQ(j["version"], "2.0.1");
  EXPECT_EQ(j["secure_version"], 4);
  EXPECT_EQ(j["chip"], "esp32c3");
  EXPECT_EQ(j["trailing_bytes"], 0);
  EXPECT_EQ(j["segments"].size(), 2u);
}

TEST_F(Cli, FlashShowsAnEmptyDeviceThenTheWrittenImage) {
  nlohmann::json j = json_of("flash show " + path("flash.bin"));
  EXPECT_EQ(j["flash_size"], 4 * 1024 * 1024);
  ASSERT_EQ(j["slots"].size(), 4u);
  for (const auto& slot : j["slots"])
    EXPECT_EQ(slot["content"], "erased");
  EXPECT_TRUE(j["otadata"]["selects"].is_null());
  EXPECT_EQ(j["uotadata"]["partition"], "uotadata");

  ASSERT_EQ(run(cli("flash write --force " + path("flash.bin") + " --partition user_1 " + path("app.bin")))
                .exit_code,
            0)
      << last_;
  j = json_of("flash show " + path("flash.bin"));
  EXPECT_EQ(j["slots"][3]["partition"], "user_1");
  EXPECT_EQ(j["slots"][3]["content"], "image");
  EXPECT_EQ(j["slots"][3]["image"]["project_name"], "hello");
}

TEST_F(Cli, FlashShowReportsADamagedImage) {
  ASSERT_EQ(run(cli("flash write --force " + path("flash.bin") + " --partition ota_0 " + path("app.bin")))
                .exit_code,
            0);
  // Flip one payload byte inside the flash file (ota_0 is at 0x20000).
  std::vector<uint8_t> flash = test::read_file(dir_ / "flash.bin");
  flash[0x20000 + 0x200] ^= 0x01;
  test::write_file(dir_ / "flash.bin", flash);
  const nlohmann::json j = json_of("flash show " + path("flash.bin"));
  EXPECT_EQ(j["slots"][0]["content"], "invalid");
  EXPECT_NE(j["slots"][0]["problem"].get<std::string>().find("checksum"), std::string::npos);
}

struct Refusal {
  const char* name;
  std::string args;  // {dir} is replaced by the test's directory
  const char* says;  // a piece of the one-line reason
};

class CliRefuses : public Cli, public testing::WithParamInterface<Refusal> {};

TEST_P(CliRefuses, WithOneClearLine) {
  std::string args = GetParam().args;
  for (size_t at; (at = args.find("{dir}")) != std::string::npos;)
    args.replace(at, 5, dir_.path().string());
  test::write_text(dir_ / "garbage.bin", "this is not an image, a table or a flash");
  test::write_text(dir_ / "bad.csv", "nvs, data, nvs, , 0x6000\nnvs, data, phy, , 0x1000\n");
  const test::CommandResult r = run(cli(args));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find(GetParam().says), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(r.out.rfind("privota: ", 0), 0u) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, CliRefuses,
    testing::Values(
        Refusal{"NoCommand", "", "subcommand"},
        Refusal{"MissingFile", "image info {dir}/nope.bin", "cannot read"},
        Refusal{"NotAnImage", "image info {dir}/garbage.bin", "not a valid app image"},
        Refusal{"UnknownChip",
                "image build --payload {dir}/payload.bin --version 1 --project p --chip esp99 -o {dir}/x",
                "unknown chip 'esp99'"},
        Refusal{"VersionTooLong",
                "image build --payload {dir}/payload.bin --version 0123456789012345678901234567890123 "
                "--project p -o "
                "{dir}/x",
                "at most 31"},
        Refusal{"EmptyPayload", "image build --payload /dev/null --version 1 --project p -o {dir}/x",
                "payload is empty"},
        Refusal{"CsvDuplicateName", "partition gen {dir}/bad.csv -o {dir}/t.bin", "bad.csv: line 2"},
        Refusal{"TableTooBigForFlash",
                "flash new --table " + std::string(PRIVOTA_SOURCE_DIR) +
                    "/examples/device/partitions.csv --size 2MB -o {dir}/f.bin",
                "ends beyond"},
        Refusal{"BadSize", "flash new --table {dir}/bad.csv --size lots -o {dir}/f.bin", "not a byte count"},
        Refusal{"FlashExists", "flash new --table {dir}/bad.csv -o {dir}/flash.bin", "use --force"},
        Refusal{"UnknownPartition", "flash write {dir}/flash.bin --partition user_9 {dir}/app.bin",
                "no partition named"},
        Refusal{"NotAnImageIntoApp", "flash write {dir}/flash.bin --partition user_0 {dir}/garbage.bin",
                "--raw"},
        Refusal{"TooBigForPartition", "flash write {dir}/flash.bin --partition phy_init {dir}/flash.bin",
                "do not fit"},
        Refusal{"NotAFlash", "flash show {dir}/garbage.bin", "opening flash file"},
        Refusal{"EmptyFlash", "flash show {dir}/payload.bin", "opening flash file"}),
    [](const auto& info) { return info.param.name; });

TEST_F(Cli, RawWritesAnythingIntoAnAppPartition) {
  test::write_text(dir_ / "blob.bin", "raw bytes");
  ASSERT_EQ(run(cli("flash write " + path("flash.bin") + " --partition user_0 --raw " + path("blob.bin")))
                .exit_code,
            0)
      << last_;
  const nlohmann::json j = json_of("flash show " + path("flash.bin"));
  EXPECT_EQ(j["slots"][2]["content"], "invalid");
}

}  // namespace
}  // namespace privota
