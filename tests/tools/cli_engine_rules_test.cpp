// Issue 16, items 4 and 5: `flash ota` refuses what the device's OTA job refuses (the same version, the image
// just rolled back) with the device's own rule code; `flash write` refuses an image that does not fit the
// slot's level or signature scheme unless --force.
#include "cli_fixture.h"

namespace privota {
namespace {

class CliEngineRules : public test::CliFixture {
 protected:
  void SetUp() override {
    new_flash();
    for (const std::string v : {"1.0.0", "2.0.0"}) {
      build_image("u" + v + ".bin", v, 1);
      expect_ok("image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " --cert " +
                vector_path("uac.pem") + " " + path("u" + v + ".bin") + " -o " +
                path("u" + v + ".signed.bin"));
    }
  }
  std::string user(const std::string& verb, const std::string& extra = "") {
    return "flash " + verb + " " + path("flash.bin") + " --level user --ca " + vector_path("ca_cert.pem") +
           " " + extra;
  }
};

TEST_F(CliEngineRules, OtaRefusesTheSameVersionAsTheDeviceDoes) {
  expect_ok("flash write " + path("flash.bin") + " --partition user_0 " + path("u1.0.0.signed.bin"));
  expect_ok(user("confirm"));
  expect_refused(user("ota", path("u1.0.0.signed.bin")),
                 "update refused, user_0 keeps running: image version is not newer than the running app's");
}

TEST_F(CliEngineRules, OtaRefusesTheImageJustRolledBack) {
  expect_ok("flash write " + path("flash.bin") + " --partition user_0 " + path("u1.0.0.signed.bin"));
  expect_ok(user("confirm"));
  expect_ok(user("ota", path("u2.0.0.signed.bin")));
  expect_ok(user("boot"));  // the trial of 2.0.0
  expect_ok("flash reject " + path("flash.bin") + " --level user");
  expect_ok(user("boot"));  // rolled back to 1.0.0
  expect_refused(user("ota", path("u2.0.0.signed.bin")),
                 "this image failed its trial on this device and was rolled back");
}

TEST_F(CliEngineRules, WriteRefusesAnImageThatDoesNotFitTheSlot) {
  expect_ok("image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_rsa3072.pem") + " " +
            path("u1.0.0.bin") + " -o " + path("p.signed.bin"));
  const std::string write = "flash write " + path("flash.bin") + " --partition ";
  expect_refused(write + "user_1 " + path("u1.0.0.bin"),
                 "refusing to write an unsigned image into user app slot 'user_1', which boots user-app "
                 "certificate images only");
  expect_refused(write + "ota_1 " + path("u1.0.0.signed.bin"),
                 "refusing to write a user-app certificate image into protected app slot 'ota_1'");
  expect_refused(write + "user_0 " + path("p.signed.bin"),
                 "refusing to write a Secure Boot v2 image into user app slot 'user_0'");
  expect_refused(write + "ota_0 " + path("u1.0.0.bin"), "use --force to write it anyway");
  // What fits goes in; --force writes the rest for experiments.
  expect_ok(write + "ota_0 " + path("p.signed.bin"));
  expect_ok(write + "user_0 " + path("u1.0.0.signed.bin"));
  expect_ok(write + "user_1 --force " + path("u1.0.0.bin"));
}

}  // namespace
}  // namespace privota
