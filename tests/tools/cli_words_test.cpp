// Issue 16, items 11, 12 and 13 (part): refusals in words, JSON verdicts for failures too, exit codes by
// kind, and `privota --version`.
#include "cli_fixture.h"

namespace privota {
namespace {

class CliWords : public test::CliFixture {};

TEST_F(CliWords, UnsignedAndWrongLevelImagesAreCalledWhatTheyAre) {
  build_image("app.bin", "1.0.0", 0);
  expect_refused("image verify " + path("app.bin") + " --ca " + vector_path("ca_cert.pem"),
                 "INVALID: the image is unsigned (no signature sector after it)");
  expect_refused("image verify " + vector_path("hello.sbv2_rsa.bin") + " --ca " + vector_path("ca_cert.pem"),
                 "INVALID: this is a Secure Boot v2 image (a protected app); use --key-digest or --key");
  expect_refused(
      "image verify " + vector_path("hello.user_signed.bin") + " --key " + vector_path("sbv2_rsa3072.pem"),
      "INVALID: this is a user-app certificate image (a user app); use --ca");
}

TEST_F(CliWords, APemIsNotAPartitionTable) {
  expect_refused("partition show " + vector_path("sbv2_rsa3072.pem"),
                 "is a PEM file (a key or certificate), not a partition table");
  expect_refused("flash new --table " + vector_path("uac.pem") + " -o " + path("f.bin"), "is a PEM file");
}

TEST_F(CliWords, NamesWithNulOr0xFFStayOnOneShortLine) {
  std::string csv = "nvs, data, nvs, , 0x6000\n" + std::string(4000, '\xff') + std::string(1, '\0') +
                    ", data, phy, , 0x1000\n";
  test::write_text(dir_ / "odd.csv", csv);
  const test::CommandResult r = run("partition show " + path("odd.csv"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out.size();
  EXPECT_EQ(r.out.find('\xff'), std::string::npos);
  EXPECT_EQ(r.out.find('\0'), std::string::npos);
  EXPECT_NE(r.out.find("\\xff"), std::string::npos) << r.out.substr(0, 200);
}

TEST_F(CliWords, FailuresAreJsonVerdictsWithJson) {
  build_image("app.bin", "1.0.0", 0);
  const nlohmann::json j =
      json_of("image verify " + path("app.bin") + " --ca " + vector_path("ca_cert.pem"), 1);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_NE(j["error"].get<std::string>().find("unsigned"), std::string::npos);
  const nlohmann::json usage = json_of("image verify", 64);
  EXPECT_EQ(usage["ok"], false);
}

TEST_F(CliWords, EngineStepsSpeakJson) {
  new_flash();
  build_image("u.bin", "1.0.0", 1);
  expect_ok("image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " --cert " +
            vector_path("uac.pem") + " " + path("u.bin") + " -o " + path("u.signed.bin"));
  const std::string user = " " + path("flash.bin") + " --level user --ca " + vector_path("ca_cert.pem");
  nlohmann::json j = json_of("flash ota" + user + " " + path("u.signed.bin"));
  EXPECT_EQ(j["slot"], "user_1");
  EXPECT_EQ(j["state"], "new");
  j = json_of("flash boot" + user);
  EXPECT_EQ(j["outcome"], "trial");
  j = json_of("flash confirm" + user);
  EXPECT_EQ(j["state"], "valid");
  EXPECT_EQ(j["floor"], 1);
  j = json_of("flash reject " + path("flash.bin") + " --level user");
  EXPECT_EQ(j["state"], "invalid");
  j = json_of("flash ota" + user + " " + path("u.signed.bin"), 1);
  EXPECT_NE(j["error"].get<std::string>().find("not newer"), std::string::npos) << j.dump();
}

TEST_F(CliWords, ExitCodesSayTheKindOfFailure) {
  EXPECT_EQ(run("image info").exit_code, 64);  // a required argument is missing
  EXPECT_EQ(run("image frobnicate").exit_code, 64);
  EXPECT_EQ(run("image info " + path("missing.bin")).exit_code, 1);
  const test::CommandResult help = run("--help");
  EXPECT_NE(help.out.find("64 usage error"), std::string::npos) << help.out;
}

TEST_F(CliWords, SaysItsVersion) {
  const test::CommandResult r = run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("privota ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

}  // namespace
}  // namespace privota
