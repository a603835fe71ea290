// `privota flash ota|boot|confirm|reject`: the engine's flows driven on a flash file through the CLI, with
// `flash show --json` as the witness.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image_builder.h"
#include "image_signer.h"
#include "key_file.h"
#include "privota/boot_select.h"
#include "test_support.h"

namespace privota {
namespace {

std::string data(const std::string& name) {
  return test::test_data("signature/" + name).string();
}

class CliEngine : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run("flash new --table " + std::string(PRIVOTA_SOURCE_DIR) +
                  "/examples/device/partitions.csv -o " + path("flash.bin"))
                  .exit_code,
              0);
    const tools::Key user_key = tools::Key::load(data("user_rsa3072.pem"));
    const tools::Key owner_key = tools::Key::load(data("sbv2_rsa3072.pem"));
    const std::vector<uint8_t> uac = test::read_file(data("uac.pem"));
    for (uint32_t v = 1; v <= 3; ++v) {
      tools::ImageSpec spec;
      spec.payload.assign(6000, static_cast<uint8_t>(v));
      spec.version = std::to_string(v) + ".0.0";
      spec.secure_version = v;
      spec.project_name = "hello";
      const std::vector<uint8_t> image = tools::build_app_image(spec).bytes;
      test::write_file(dir_ / ("u" + std::to_string(v) + ".bin"),
                       tools::sign_user_app(image, user_key, std::string(uac.begin(), uac.end())));
      test::write_file(dir_ / ("p" + std::to_string(v) + ".bin"),
                       tools::sign_secure_boot_v2(image, std::span<const tools::Key>(&owner_key, 1)));
    }
  }

  test::CommandResult run(const std::string& args) {
    test::CommandResult r = test::run_command(std::string(PRIVOTA_CLI) + " " + args);
    last_ = r.out;
    return r;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string user(const std::string& verb, const std::string& extra = "") {
    return "flash " + verb + " " + path("flash.bin") + " --level user --ca " + data("ca_cert.pem") + " " +
           extra;
  }
  std::string prot(const std::string& verb, const std::string& extra = "") {
    return "flash " + verb + " " + path("flash.bin") + " --level protected --key " +
           data("sbv2_rsa3072.pem") + " " + extra;
  }
  // What the select partition of a level says now: selected slot, its state, its image version, the floor.
  std::tuple<std::string, std::string, std::string, int> state(const char* select) {
    const test::CommandResult r = run("flash show --json " + path("flash.bin"));
    const nlohmann::json j = nlohmann::json::parse(r.out);
    const nlohmann::json& s = j[select];
    const std::string slot = s["selects"].is_null() ? "" : s["selects"].get<std::string>();
    std::string version;
    for (const auto& x : j["slots"]) {
      if (x["partition"] == slot && x["content"] == "image") version = x["image"]["version"];
    }
    const std::string st =
        s["active_entry"] < 0 ? "" : s["entries"][s["active_entry"].get<int>()]["state"].get<std::string>();
    return {slot, st, version, s["secure_version_floor"].get<int>()};
  }

  test::TempDir dir_;
  std::string last_;
};

using State = std::tuple<std::string, std::string, std::string, int>;

TEST_F(CliEngine, UserAppUpdateTrialConfirmAndRollback) {
  ASSERT_EQ(run("flash write " + path("flash.bin") + " --partition user_0 " + path("u1.bin")).exit_code, 0);
  ASSERT_EQ(run(user("boot")).exit_code, 0) << last_;
  EXPECT_NE(last_.find("fallback"), std::string::npos) << last_;
  ASSERT_EQ(run(user("confirm")).exit_code, 0) << last_;
  EXPECT_EQ(state("uotadata"), State("user_0", "valid", "1.0.0", 1));

  ASSERT_EQ(run(user("ota", path("u2.bin"))).exit_code, 0) << last_;
  EXPECT_EQ(state("uotadata"), State("user_1", "new", "2.0.0", 1));
  ASSERT_EQ(run(user("boot")).exit_code, 0);
  EXPECT_NE(last_.find("trial"), std::string::npos) << last_;
  EXPECT_EQ(state("uotadata"), State("user_1", "pending_verify", "2.0.0", 1));
  ASSERT_EQ(run(user("confirm")).exit_code, 0) << last_;
  EXPECT_EQ(state("uotadata"), State("user_1", "valid", "2.0.0", 2));

  ASSERT_EQ(run(user("ota", path("u3.bin"))).exit_code, 0) << last_;
  // v3 never confirms: it keeps its trial for kDefaultTrialBoots boots (a power cut is not its fault),
  // and the boot after those rolls it back.
  for (uint32_t boot = 0; boot < kDefaultTrialBoots; ++boot) {
    ASSERT_EQ(run(user("boot")).exit_code, 0);
    EXPECT_NE(last_.find("trial"), std::string::npos) << last_;
  }
  ASSERT_EQ(run(user("boot")).exit_code, 0);
  EXPECT_NE(last_.find("rolled_back"), std::string::npos) << last_;
  EXPECT_EQ(state("uotadata"), State("user_1", "valid", "2.0.0", 2));
}

TEST_F(CliEngine, RejectRollsBackOnTheNextBoot) {
  ASSERT_EQ(run("flash write " + path("flash.bin") + " --partition ota_0 " + path("p1.bin")).exit_code, 0);
  ASSERT_EQ(run(prot("confirm")).exit_code, 0) << last_;
  ASSERT_EQ(run(prot("ota", path("p2.bin"))).exit_code, 0) << last_;
  ASSERT_EQ(run(prot("boot")).exit_code, 0);
  ASSERT_EQ(run("flash reject " + path("flash.bin") + " --level protected").exit_code, 0) << last_;
  EXPECT_EQ(std::get<1>(state("otadata")), "invalid");
  ASSERT_EQ(run(prot("boot")).exit_code, 0);
  EXPECT_NE(last_.find("rolled_back"), std::string::npos) << last_;
  EXPECT_EQ(state("otadata"), State("ota_0", "valid", "1.0.0", 1));
}

TEST_F(CliEngine, RefusedUpdatesLeaveTheRunningAppSelected) {
  ASSERT_EQ(run("flash write " + path("flash.bin") + " --partition user_0 " + path("u2.bin")).exit_code, 0);
  ASSERT_EQ(run(user("confirm")).exit_code, 0) << last_;
  std::vector<uint8_t> tampered = test::read_file(dir_ / "u3.bin");
  tampered[1000] ^= 0x01;
  test::write_file(dir_ / "tampered.bin", tampered);
  struct Case {
    std::string image;
    const char* says;
  };
  {
    tools::ImageSpec spec;
    spec.payload.assign(6000, 9);
    spec.version = "9.0.0";
    spec.secure_version = 9;
    spec.project_name = "hello";
    spec.chip = ChipId::kEsp32S3;
    const tools::Key user_key = tools::Key::load(data("user_rsa3072.pem"));
    const std::vector<uint8_t> uac = test::read_file(data("uac.pem"));
    test::write_file(dir_ / "s3.bin", tools::sign_user_app(tools::build_app_image(spec).bytes, user_key,
                                                           std::string(uac.begin(), uac.end())));
  }
  for (const Case& c : {Case{"tampered.bin", "checksum"},
                        Case{"u1.bin", "image secure_version 1 is below the anti-rollback floor 2"},
                        Case{"p3.bin", "no magic 0xB7"}, Case{"nothing.bin", "cannot read"},
                        Case{"s3.bin", "image is built for esp32s3, this device is an esp32c3"}}) {
    const test::CommandResult r = run(user("ota", path(c.image)));
    EXPECT_EQ(r.exit_code, 1) << c.image;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_EQ(state("uotadata"), State("user_0", "valid", "2.0.0", 2)) << c.image;
  }
}

// Issue 16 item 10: "no bootable app" never comes alone; every slot says what it holds and why it was
// refused, on the one error line, as the device logs it.
TEST_F(CliEngine, BootWithNothingBootableSaysWhatEachSlotHoldsAndWhy) {
  const test::CommandResult empty = run(user("boot"));
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.out.find("no user app to run: user_0 is erased"), std::string::npos) << empty.out;
  EXPECT_NE(empty.out.find("user_1 is erased"), std::string::npos) << empty.out;

  // A protected image in a user slot, written on purpose: refused for what it is, by name.
  ASSERT_EQ(run("flash write " + path("flash.bin") + " " + path("p1.bin") + " --partition user_0 --force")
                .exit_code,
            0)
      << last_;
  const test::CommandResult wrong = run(user("boot"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("user_0 holds"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("refused"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("user_1 is erased"), std::string::npos) << wrong.out;
  EXPECT_EQ(std::count(wrong.out.begin(), wrong.out.end(), '\n'), 1) << wrong.out;
}

TEST_F(CliEngine, TrustMustBeGiven) {
  const test::CommandResult r = run("flash ota " + path("flash.bin") + " --level user " + path("u2.bin"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("say whom to trust"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace privota
