// A temporary directory and the real `privota` binary, for the CLI tests: run a command line, read what it
// printed, and make the usual inputs (keys, a CA, images, a flash file) the way a user would.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

namespace privota::test {

class CliFixture : public testing::Test {
 protected:
  CommandResult run(const std::string& args) {
    CommandResult result = run_command(std::string(PRIVOTA_CLI) + " " + args);
    last_ = result.out;
    return result;
  }
  void expect_ok(const std::string& args) {
    const CommandResult r = run(args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.out;
  }
  // Runs a command that must fail with exit code `code` and one line containing `says`.
  void expect_refused(const std::string& args, const std::string& says, int code = 1) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, code) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(says), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
  }
  nlohmann::json json_of(const std::string& args, int code = 0) {
    const CommandResult r = run(args + " --json");
    EXPECT_EQ(r.exit_code, code) << args << "\n" << r.out;
    try {
      return nlohmann::json::parse(r.out);
    } catch (const nlohmann::json::exception&) {
      ADD_FAILURE() << args << " printed no JSON:\n" << r.out;
      return {};
    }
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string seed_table() {
    return std::string(PRIVOTA_SOURCE_DIR) + "/examples/device/partitions.csv";
  }
  static std::string vector_path(const std::string& name) { return test_data("signature/" + name).string(); }

  void build_image(const std::string& name, const std::string& version, uint32_t secure_version,
                   const std::string& chip = "esp32c3") {
    write_text(dir_ / "payload.bin", std::string(3000, 'p') + version);
    expect_ok("image build --force --payload " + path("payload.bin") + " --version " + version +
              " --secure-version " + std::to_string(secure_version) + " --project hello --chip " + chip +
              " -o " + path(name));
  }
  // owner.pem (Secure Boot v2, RSA-3072), dev.pem + dev.uac.pem (user app) and the CA directory ca/.
  void make_keys() {
    expect_ok("key gen --type rsa3072 -o " + path("owner.pem"));
    expect_ok("key gen --type rsa3072 -o " + path("dev.pem"));
    expect_ok("ca new -o " + path("ca"));
    expect_ok("ca issue --ca " + path("ca") + " --key " + path("dev.pem") + " -o " + path("dev.uac.pem"));
  }
  void sign_protected(const std::string& in, const std::string& out) {
    expect_ok("image sign --force --scheme secure-boot-v2 --key " + path("owner.pem") + " " + path(in) +
              " -o " + path(out));
  }
  void sign_user(const std::string& in, const std::string& out) {
    expect_ok("image sign --force --scheme user-cert --key " + path("dev.pem") + " --cert " +
              path("dev.uac.pem") + " " + path(in) + " -o " + path(out));
  }
  void new_flash() { expect_ok("flash new --force --table " + seed_table() + " -o " + path("flash.bin")); }

  TempDir dir_;
  std::string last_;
};

}  // namespace privota::test
