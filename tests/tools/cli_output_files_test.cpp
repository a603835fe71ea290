// Issue 16, item 2: no command writes over its own input, and every command that writes a file replaces an
// existing one only with --force.
#include "cli_fixture.h"

namespace privota {
namespace {

class CliOutputFiles : public test::CliFixture {};

TEST_F(CliOutputFiles, KeyDigestNeverWritesOverTheKey) {
  expect_ok("key gen --type ecdsa-p256 -o " + path("owner.pem"));
  const std::vector<uint8_t> key = test::read_file(dir_ / "owner.pem");
  expect_refused("key digest " + path("owner.pem") + " -o " + path("owner.pem"),
                 "is also this command's input");
  expect_refused("key digest " + path("owner.pem") + " --force -o " + path("owner.pem"),
                 "is also this command's input");
  EXPECT_EQ(test::read_file(dir_ / "owner.pem"), key);
  // The same file by another name is the same file.
  expect_refused("key digest " + path("owner.pem") + " -o " + dir_.path().string() + "/./owner.pem",
                 "is also this command's input");
}

TEST_F(CliOutputFiles, ImageSignNeverSignsInPlace) {
  make_keys();
  build_image("app.bin", "1.0.0", 0);
  const std::vector<uint8_t> image = test::read_file(dir_ / "app.bin");
  expect_refused("image sign --force --scheme secure-boot-v2 --key " + path("owner.pem") + " " +
                     path("app.bin") + " -o " + path("app.bin"),
                 "is also this command's input");
  EXPECT_EQ(test::read_file(dir_ / "app.bin"), image);
}

// Each command that writes a file, once to a new file (fine), then again over it: refused without --force
// (the file unchanged), accepted with it.
TEST_F(CliOutputFiles, EveryWriterRefusesToReplaceAFileWithoutForce) {
  make_keys();
  build_image("app.bin", "1.0.0", 0);
  test::write_text(dir_ / "payload.bin", "payload");
  const std::vector<std::pair<std::string, std::string>> writers = {
      {"ca issue --ca " + path("ca") + " --key " + path("dev.pem"), "uac2.pem"},
      {"image build --payload " + path("payload.bin") + " --version 1 --project p", "built.bin"},
      {"image sign --scheme secure-boot-v2 --key " + path("owner.pem") + " " + path("app.bin"), "signed.bin"},
      {"partition gen " + seed_table(), "table.bin"},
      {"key digest " + path("owner.pem"), "digest.bin"},
      {"key gen --type rsa3072", "k.pem"},
      {"flash new --table " + seed_table(), "flash.bin"},
      {"config new --key " + path("owner.pem") + " --user-ca " + path("ca"), "device.json"},
  };
  for (const auto& [command, output] : writers) {
    SCOPED_TRACE(command);
    expect_ok(command + " -o " + path(output));
    test::write_text(dir_ / output, "precious");
    expect_refused(command + " -o " + path(output), "already exists; use --force to replace it");
    EXPECT_EQ(test::read_file(dir_ / output), std::vector<uint8_t>({'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'}));
    expect_ok(command + " --force -o " + path(output));
    EXPECT_NE(test::read_file(dir_ / output).size(), 8u);
  }
}

TEST_F(CliOutputFiles, PartitionGenWritesTheFormTheOutputNameSays) {
  expect_ok("partition gen " + seed_table() + " -o " + path("t.bin"));
  expect_ok("partition gen " + path("t.bin") + " -o " + path("copy.bin"));
  EXPECT_EQ(test::read_file(dir_ / "copy.bin"), test::read_file(dir_ / "t.bin"));
  expect_ok("partition gen " + path("t.bin") + " -o " + path("t.csv"));
  const std::vector<uint8_t> csv = test::read_file(dir_ / "t.csv");
  EXPECT_NE(std::string(csv.begin(), csv.end()).find("user_0"), std::string::npos);
  expect_ok("partition gen " + path("t.csv") + " -o " + path("again.csv"));
  EXPECT_EQ(test::read_file(dir_ / "again.csv"), csv);
}

}  // namespace
}  // namespace privota
