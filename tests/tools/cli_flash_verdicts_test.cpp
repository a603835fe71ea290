// Issue 16, item 10 (the CLI half): `flash show` with trust verifies every app slot and says why a slot is
// refused; `flash read` extracts a slot that `image verify` then checks.
#include "cli_fixture.h"

namespace privota {
namespace {

class CliFlashVerdicts : public test::CliFixture {};

TEST_F(CliFlashVerdicts, ShowSaysPerSlotWhatVerifiesAndWhyNot) {
  new_flash();
  build_image("u.bin", "1.0.0", 1);
  build_image("c6.bin", "1.0.0", 1, "esp32c6");
  const std::string sign_user = "image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") +
                                " --cert " + vector_path("uac.pem") + " ";
  expect_ok(sign_user + path("u.bin") + " -o " + path("u.signed.bin"));
  expect_ok(sign_user + path("c6.bin") + " -o " + path("c6.signed.bin"));
  expect_ok("image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_rsa3072_other.pem") + " " +
            path("u.bin") + " -o " + path("p.signed.bin"));
  expect_ok("flash write " + path("flash.bin") + " --partition user_0 " + path("u.signed.bin"));
  expect_ok("flash write " + path("flash.bin") + " --partition user_1 " + path("c6.signed.bin"));
  expect_ok("flash write " + path("flash.bin") + " --partition ota_0 " + path("p.signed.bin"));
  const nlohmann::json j = json_of("flash show " + path("flash.bin") + " --ca " + vector_path("ca_cert.pem") +
                                   " --key " + vector_path("sbv2_rsa3072.pem"));
  ASSERT_EQ(j["slots"].size(), 4u);
  EXPECT_EQ(j["slots"][0]["verdict"]["verified"], false);
  EXPECT_NE(
      j["slots"][0]["verdict"]["reason"].get<std::string>().find("signed by a key the device does not trust"),
      std::string::npos)
      << j["slots"][0];
  EXPECT_EQ(j["slots"][1]["verdict"]["reason"], "erased");
  EXPECT_EQ(j["slots"][2]["verdict"]["reason"], "VALID");
  EXPECT_NE(j["slots"][3]["verdict"]["reason"].get<std::string>().find(
                "image is built for esp32c6, this device is an esp32c3"),
            std::string::npos)
      << j["slots"][3];
  const test::CommandResult text =
      run("flash show " + path("flash.bin") + " --ca " + vector_path("ca_cert.pem"));
  EXPECT_NE(text.out.find("  user_0   VALID"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  ota_0    not checked"), std::string::npos) << text.out;
}

TEST_F(CliFlashVerdicts, ReadExtractsASlotImageVerifyAccepts) {
  new_flash();
  build_image("u.bin", "1.0.0", 1);
  expect_ok("image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " --cert " +
            vector_path("uac.pem") + " " + path("u.bin") + " -o " + path("u.signed.bin"));
  expect_ok("flash write " + path("flash.bin") + " --partition user_0 " + path("u.signed.bin"));
  expect_ok("flash read " + path("flash.bin") + " --partition user_0 -o " + path("slot.bin"));
  EXPECT_EQ(test::read_file(dir_ / "slot.bin"), test::read_file(dir_ / "u.signed.bin"));
  expect_ok("image verify " + path("slot.bin") + " --ca " + vector_path("ca_cert.pem"));
  expect_ok("flash read " + path("flash.bin") + " --partition user_0 --whole --force -o " + path("slot.bin"));
  EXPECT_EQ(test::read_file(dir_ / "slot.bin").size(), 256u * 1024);
  expect_refused("flash read " + path("flash.bin") + " --partition user_9 -o " + path("x.bin"),
                 "no partition named 'user_9'");
}

}  // namespace
}  // namespace privota
