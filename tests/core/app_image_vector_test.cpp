// The committed image that Espressif's esptool accepted (tests/data/image/README.md): privota must decode it
// to the facts esptool printed, and the builder must still produce it byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "image_builder.h"
#include "image_report.h"
#include "privota/app_image.h"
#include "privota/host/mbedtls_digest.h"
#include "test_support.h"

namespace privota {
namespace {

std::string read_text(const std::string& relative) {
  std::ifstream in(test::test_data(relative));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AppImageVector, DecodesToWhatEsptoolReported) {
  const std::vector<uint8_t> bytes = test::read_file(test::test_data("image/hello_esp32c3.bin"));
  host::MbedSha256 sha;
  AppImageLimits limits;
  limits.expected_chip = ChipId::kEsp32C3;
  AppImageValidator validator(sha, limits);
  ASSERT_TRUE(validator.update(test::span_of(bytes)).is_ok());
  const Result<AppImageInfo> info = validator.info();
  ASSERT_TRUE(info.is_ok()) << info.status().reason();

  const std::string esptool = read_text("image/hello_esp32c3.esptool.txt");
  const std::string hash = tools::hex(info->sha256, 32);
  EXPECT_NE(esptool.find("Validation hash: " + hash + " (valid)"), std::string::npos) << hash;
  EXPECT_NE(esptool.find("Checksum: 0x" + tools::hex(&info->checksum, 1) + " (valid)"), std::string::npos);
  EXPECT_NE(esptool.find("Chip ID: 5 (ESP32-C3)"), std::string::npos);
  EXPECT_NE(esptool.find(std::string("Project name: ") + info->desc.project_name), std::string::npos);
  EXPECT_NE(esptool.find(std::string("App version: ") + info->desc.version), std::string::npos);
  EXPECT_NE(esptool.find("Secure version: " + std::to_string(info->desc.secure_version)), std::string::npos);
  EXPECT_NE(esptool.find("ELF file SHA256: " + tools::hex(info->desc.app_elf_sha256, 32)), std::string::npos);
}

TEST(AppImageVector, BuilderReproducesItByteForByte) {
  tools::ImageSpec spec;
  spec.payload = test::read_file(test::test_data("image/payload.bin"));
  spec.version = "1.2.0";
  spec.secure_version = 3;
  spec.project_name = "hello";
  spec.chip = ChipId::kEsp32C3;
  spec.time = "12:00:00";
  spec.date = "Nov 24 2026";
  spec.idf_ver = "privota-0.1.0";
  const tools::BuiltImage built = tools::build_app_image(spec);
  ASSERT_EQ(built.error, "");
  EXPECT_EQ(built.bytes, test::read_file(test::test_data("image/hello_esp32c3.bin")));
}

}  // namespace
}  // namespace privota
