// Issue 16, item 3: the ESP32-C3's Secure Boot v2 verifies RSA-3072 only, so `image sign` refuses an ECDSA
// key for an esp32c3 image and `image verify --chip esp32c3` refuses an ECDSA-signed one.
#include "cli_fixture.h"

namespace privota {
namespace {

class CliChipSchemes : public test::CliFixture {};

TEST_F(CliChipSchemes, SignRefusesEcdsaForAnEsp32c3Image) {
  expect_ok("key gen --type ecdsa-p256 -o " + path("ec.pem"));
  build_image("c3.bin", "1.0.0", 0, "esp32c3");
  expect_refused(
      "image sign --scheme secure-boot-v2 --key " + path("ec.pem") + " " + path("c3.bin") + " -o " +
          path("c3.signed.bin"),
      "esp32c3's Secure Boot v2 verifies RSA-3072 only; '" + path("ec.pem") + "' is an ECDSA P-256 key");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "c3.signed.bin"));
  // The same key for a chip that verifies ECDSA is fine, and RSA for the C3 too.
  build_image("c6.bin", "1.0.0", 0, "esp32c6");
  expect_ok("image sign --scheme secure-boot-v2 --key " + path("ec.pem") + " " + path("c6.bin") + " -o " +
            path("c6.signed.bin"));
  expect_ok("image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_rsa3072.pem") + " " +
            path("c3.bin") + " -o " + path("c3.signed.bin"));
}

TEST_F(CliChipSchemes, VerifyForTheEsp32c3RefusesAnEcdsaSignature) {
  // Espressif's own ECDSA-signed esp32c3 image: a valid signature the C3's ROM cannot check.
  const std::string ecdsa =
      "image verify " + vector_path("hello.sbv2_ecdsa.bin") + " --key " + vector_path("sbv2_ecdsa_p256.pem");
  expect_ok(ecdsa);
  expect_refused(ecdsa + " --chip esp32c3",
                 "INVALID: esp32c3's Secure Boot v2 verifies RSA-3072 only; block 0 "
                 "is ECDSA P-256");
  expect_ok("image verify " + vector_path("hello.sbv2_rsa.bin") + " --key " +
            vector_path("sbv2_rsa3072.pem") + " --chip esp32c3");
}

// `flash show` says what the device would do (host::SlotVerifier): the C3's ROM refuses the ECDSA block even
// though its key is the one given as trusted.
TEST_F(CliChipSchemes, FlashShowRefusesAnEcdsaSlotOnAnEsp32c3LikeTheDevice) {
  new_flash();
  expect_ok("flash write " + path("flash.bin") + " --partition ota_0 " + vector_path("hello.sbv2_ecdsa.bin"));
  const nlohmann::json j =
      json_of("flash show " + path("flash.bin") + " --key " + vector_path("sbv2_ecdsa_p256.pem"));
  const nlohmann::json& verdict = j["slots"][0]["verdict"];
  EXPECT_EQ(verdict["verified"], false) << verdict;
  EXPECT_NE(verdict["reason"].get<std::string>().find("verifies RSA-3072 only"), std::string::npos)
      << verdict;
}

}  // namespace
}  // namespace privota
