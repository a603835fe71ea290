// The device says which slot and why: when nothing boots, the bootloader and the protected app log every
// slot with what it holds and why it was refused (and --events holds the same); the chip's Secure Boot v2
// scheme rules hold on the device; and a URL's credentials never reach the device's log.
#include <gtest/gtest.h>

#include <array>
#include <span>

#include "image_signer.h"
#include "key_file.h"
#include "sim_device.h"

namespace privota::test {
namespace {

using nlohmann::json;

std::string q(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

std::string hex(const std::array<uint8_t, 32>& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (const uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

// The slot_refused event of `partition` in the run; null when there is none.
json refused(const SimRun& run, const std::string& partition) {
  for (const json& e : run.all("slot_refused"))
    if (e.value("partition", "") == partition) return e;
  return nullptr;
}

std::string text(const json& event, const char* field) {
  return event.is_null() ? "" : event.value(field, "");
}

TEST(DeviceRefusals, NothingBootsAndEverySlotSaysWhatItHoldsAndWhy) {
  SimDevice device;
  // ota_0: the owner's image with a payload byte flipped; ota_1: erased.
  device.make_flash(device.tampered(device.protected_image("1.0.0", 1)),
                    device.user_image("hello", "1.0.0", 1),
                    /*raw=*/true);
  const std::filesystem::path events = device.dir() / "events.jsonl";
  const SimRun run = device.run("--events " + q(events));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const json ota0 = refused(run, "ota_0");
  ASSERT_FALSE(ota0.is_null()) << run.output;
  EXPECT_EQ(ota0["src"], "bootloader");
  EXPECT_EQ(ota0["found"], "image 1.0.0 (secure_version 1, esp32c3)") << ota0;
  EXPECT_EQ(ota0["error"], "bad_checksum") << ota0;  // the image's own checksum byte, before its SHA-256
  EXPECT_NE(text(ota0, "reason").find("checksum does not match"), std::string::npos) << ota0;
  const json ota1 = refused(run, "ota_1");
  EXPECT_EQ(ota1["found"], "erased") << run.output;
  const json none = run.first("no_bootable_app");
  ASSERT_FALSE(none.is_null()) << run.output;
  EXPECT_NE(text(none, "msg").find("ota_0 holds image 1.0.0"), std::string::npos) << none;
  EXPECT_NE(text(none, "msg").find("ota_1 is erased"), std::string::npos) << none;
  EXPECT_EQ(none["slots"].size(), 2u) << none;
  // --events holds the same records.
  const std::vector<uint8_t> written = read_file(events);
  EXPECT_NE(std::string(written.begin(), written.end()).find("\"event\":\"slot_refused\""),
            std::string::npos);
}

TEST(DeviceRefusals, AnUntrustedKeyAndAnotherChipAreNamed) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("hello", "1.0.0", 1));
  device.configure("--key-digest " + std::string(64, 'a'), /*trust_owner=*/false);
  const SimRun untrusted = device.run();
  EXPECT_EQ(untrusted.exit_code, 2) << untrusted.output;
  EXPECT_EQ(refused(untrusted, "ota_0")["error"], "untrusted") << untrusted.output;
  EXPECT_NE(text(refused(untrusted, "ota_0"), "reason").find("does not trust"), std::string::npos);

  // A protected app built for another chip, on this esp32c3.
  const std::filesystem::path s3 = device.dir() / "protected-s3.bin";
  const std::filesystem::path s3_signed = device.dir() / "protected-s3.signed.bin";
  must(run_command(device.cli() + " image build --payload " +
                   q(std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images/protected.elf") +
                   " --version 1.0.0 --secure-version 1 --project protected --chip esp32s3 -o " + q(s3)),
       "image build");
  must(run_command(device.cli() + " image sign --scheme secure-boot-v2 --key " +
                   q(std::filesystem::path(PRIVOTA_DEVICE_DIR) / "keys/owner.pem") + " " + q(s3) + " -o " +
                   q(s3_signed)),
       "image sign");
  device.make_flash(s3_signed, device.user_image("hello", "1.0.0", 1));
  device.configure();
  const SimRun chip = device.run();
  EXPECT_EQ(chip.exit_code, 2) << chip.output;
  EXPECT_EQ(text(refused(chip, "ota_0"), "reason"),
            "image is built for esp32s3, this device is an esp32c3 (wrong_chip)")
      << chip.output;
}

TEST(DeviceRefusals, ASlotMarkedInvalidIsNamedAsSuch) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("hello", "1.0.0", 1));
  must(run_command(device.cli() + " flash reject " + q(device.flash()) + " --level protected"),
       "flash reject");
  const SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const json ota0 = refused(run, "ota_0");
  EXPECT_EQ(ota0["error"], "bad_state") << run.output;
  EXPECT_NE(text(ota0, "reason").find("INVALID"), std::string::npos) << ota0;
}

TEST(DeviceRefusals, NoUserAppRunsAndEveryUserSlotSaysWhy) {
  SimDevice device;
  // user_0: a user app built for another chip (signed properly); user_1: erased.
  const std::filesystem::path s3 =
      device.signed_user_image("hello-s3", std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images/hello.elf",
                               "hello", "1.0.0", 1, "--chip esp32s3");
  device.make_flash(device.protected_image("1.0.0", 1), s3);
  const SimRun run = device.run();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const json user0 = refused(run, "user_0");
  ASSERT_FALSE(user0.is_null()) << run.output;
  EXPECT_EQ(user0["src"], "protected");
  EXPECT_EQ(user0["error"], "wrong_chip");
  EXPECT_EQ(text(refused(run, "user_1"), "found"), "erased");
  EXPECT_NE(text(run.first("no_bootable_user_app"), "msg").find("user_0 holds image 1.0.0"),
            std::string::npos)
      << run.output;
}

// ESP32-C3's ROM verifies RSA-3072 only: a protected app whose only Secure Boot v2 block is ECDSA does not
// boot there, even with its key trusted. `privota image sign` refuses to make such an image, so the test
// signs with the tools library (as another signer could).
TEST(DeviceRefusals, AnEcdsaSignedProtectedAppDoesNotBootOnAnEsp32c3) {
  SimDevice device;
  tools::Random random;
  const tools::Key ecdsa = tools::Key::generate(tools::KeyKind::kEcdsaP256, random);
  auto ecdsa_signed = [&](const std::string& chip) {
    const std::filesystem::path image = device.dir() / ("protected-" + chip + ".bin");
    must(run_command(device.cli() + " image build --payload " +
                     q(std::filesystem::path(PRIVOTA_DEVICE_DIR) / "images/protected.elf") +
                     " --version 1.0.0 --secure-version 1 --project protected --chip " + chip + " -o " +
                     q(image)),
         "image build");
    const std::filesystem::path out = device.dir() / ("protected-" + chip + ".ecdsa.bin");
    write_file(out, tools::sign_secure_boot_v2(read_file(image), std::span<const tools::Key>(&ecdsa, 1)));
    return out;
  };
  const std::string trust = "--key-digest " + hex(ecdsa.sbv2_key_digest());

  device.make_flash(ecdsa_signed("esp32c3"), device.user_image("hello", "1.0.0", 1));
  device.configure(trust, /*trust_owner=*/false);
  const SimRun c3 = device.run();
  EXPECT_EQ(c3.exit_code, 2) << c3.output;
  const json ota0 = refused(c3, "ota_0");
  EXPECT_EQ(ota0["error"], "unsupported") << c3.output;
  EXPECT_NE(text(ota0, "reason").find("verifies RSA-3072 only"), std::string::npos) << ota0;
  EXPECT_TRUE(c3.first("boot").is_null());

  // The same kind of image on an ESP32-C6, which verifies ECDSA too: the bootloader starts it.
  device.make_flash(ecdsa_signed("esp32c6"), device.user_image("hello", "1.0.0", 1));
  device.configure(trust + " --chip esp32c6", /*trust_owner=*/false);
  const SimRun c6 = device.run();
  EXPECT_FALSE(c6.first("boot").is_null()) << c6.output;
  EXPECT_TRUE(refused(c6, "ota_0").is_null()) << c6.output;
}

TEST(DeviceRefusals, TheDeviceLogNeverShowsAUrlsCredentials) {
  SimDevice device;
  device.make_flash(device.protected_image("1.0.0", 1), device.user_image("updater", "1.0.0", 1));
  device.configure("--allow-host 127.0.0.1");
  const SimRun run = device.run("--user-arg 'https://user:s3cret@127.0.0.1/user.bin'");
  const json refusal = run.first("ota_refused");
  ASSERT_FALSE(refusal.is_null()) << run.output;
  EXPECT_EQ(refusal["error"], "url_userinfo");
  EXPECT_EQ(refusal["url"], "https://***@127.0.0.1/user.bin") << refusal;
  EXPECT_NE(text(refusal, "msg").find("https://***@127.0.0.1/user.bin"), std::string::npos) << refusal;
  EXPECT_EQ(run.output.find("s3cret"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace privota::test
