// Signing as a user runs it: `privota key`, `ca`, `image sign` and `image verify` as real processes,
// Espressif's own signed images, and one table of damaged images that `image verify` must each refuse with
// its own reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "certificate_authority.h"
#include "image_builder.h"
#include "image_signer.h"
#include "key_file.h"
#include "privota/byte_order.h"
#include "privota/secure_boot_v2.h"
#include "privota/user_app_signature.h"
#include "test_support.h"

namespace privota {
namespace {

using test::run_command;

constexpr size_t kSector = 4096;

std::string cli(const std::string& args) {
  return std::string(PRIVOTA_CLI) + " " + args;
}
std::string vector_path(const std::string& name) {
  return test::test_data("signature/" + name).string();
}

// From tests/data/signature/README.md.
constexpr const char* kRsaDigest = "07c0d4a4ce38d94131e74c11b7b1287645dce35c9276943cc4f3ba2092983c52";
constexpr const char* kEcdsaDigest = "a6af04912e63c30de97b5ad48e7e1c427a10399c326d5380d4370d26871cad1a";

class CliSigning : public testing::Test {
 protected:
  test::CommandResult run(const std::string& args) {
    test::CommandResult result = run_command(cli(args));
    last_ = result.out;
    return result;
  }
  void expect_ok(const std::string& args) {
    const test::CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.out;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void build_image(const std::string& name, uint32_t secure_version, const std::string& chip = "esp32c3") {
    test::write_text(dir_ / "payload.bin", std::string(3000, 'p'));
    expect_ok("image build --force --payload " + path("payload.bin") + " --version 2.0.1 --secure-version " +
              std::to_string(secure_version) + " --project hello --chip " + chip + " -o " + path(name));
  }

  test::TempDir dir_;
  std::string last_;
};

TEST_F(CliSigning, EveryCommandHasHelp) {
  for (const char* command : {"key gen", "key digest", "ca new", "ca issue", "image sign", "image verify"}) {
    const test::CommandResult r = run(std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << command;
  }
}

TEST_F(CliSigning, KeysCaSignVerifyRoundTrip) {
  // Keys: a Secure Boot v2 ECDSA key and the user-app developer's RSA-3072 key; a CA with a new RSA-3072 key.
  expect_ok("key gen --type ecdsa-p256 -o " + path("sbv2.pem"));
  expect_ok("key gen --type rsa3072 -o " + path("user.pem"));
  expect_ok("ca new -o " + path("ca") + " --subject 'CN=Round Trip CA, O=privota' --days 365");
  expect_ok("ca issue --ca " + path("ca") + " --key " + path("user.pem") +
            " --subject 'CN=round trip dev' -o " + path("uac.pem"));
  build_image("app.bin", 4, "esp32c6");  // ECDSA needs a chip whose Secure Boot v2 verifies it

  const test::CommandResult digest = run("key digest --json " + path("sbv2.pem"));
  ASSERT_EQ(digest.exit_code, 0) << digest.out;
  const nlohmann::json key = nlohmann::json::parse(digest.out);
  EXPECT_EQ(key["type"], "ECDSA P-256");
  const std::string sbv2_digest = key["digest"];

  // Protected app: two Secure Boot v2 blocks, the new ECDSA key and the committed RSA key.
  expect_ok("image sign --scheme secure-boot-v2 --key " + path("sbv2.pem") + " --key " +
            vector_path("sbv2_rsa3072.pem") + " " + path("app.bin") + " -o " + path("app.signed.bin"));
  test::CommandResult r = run("image verify " + path("app.signed.bin") + " --key-digest " + sbv2_digest +
                              " --min-secure-version 4 --chip esp32c6");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "VALID: hello 2.0.1 (secure_version 4), signed by block 0 (key digest " + sbv2_digest + ")\n");
  r = run("image verify " + path("app.signed.bin") + " --key " + vector_path("sbv2_rsa3072.pub.pem") +
          " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json verdict = nlohmann::json::parse(r.out);
  EXPECT_EQ(verdict["valid"], true);
  EXPECT_EQ(verdict["block"], 1);
  EXPECT_EQ(verdict["key_digest"], kRsaDigest);
  EXPECT_EQ(verdict["scheme"], "secure-boot-v2");

  // User app: the developer's key and the certificate the CA issued.
  expect_ok("image sign --scheme user-cert --key " + path("user.pem") + " --cert " + path("uac.pem") + " " +
            path("app.bin") + " -o " + path("user.signed.bin"));
  r = run("image verify " + path("user.signed.bin") + " --ca " + path("ca/ca_cert.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(
      r.out,
      "VALID: hello 2.0.1 (secure_version 4), signed by a user-app key, certificate subject 'CN=round trip "
      "dev'\n");
  // The CA directory itself works too, and another CA does not.
  EXPECT_EQ(run("image verify " + path("user.signed.bin") + " --ca " + path("ca")).exit_code, 0) << last_;
  EXPECT_EQ(run("image verify " + path("user.signed.bin") + " --ca " + vector_path("ca_cert.pem")).exit_code,
            1);
}

TEST_F(CliSigning, EspressifVectorsVerify) {
  for (const std::string& args :
       {"hello.sbv2_rsa.bin --key-digest " + std::string(kRsaDigest),
        "hello.sbv2_ecdsa.bin --key-digest " + std::string(kEcdsaDigest),
        "hello.sbv2_two_keys.bin --key " + vector_path("sbv2_rsa3072_other.pub.pem"),
        "hello.user_signed.bin --ca " + vector_path("ca_cert.pem")}) {
    const test::CommandResult r = run("image verify " + vector_path(args));
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("VALID: hello 1.2.0 (secure_version 3), signed by ", 0), 0u) << r.out;
  }
}

TEST_F(CliSigning, KeyGenDoesNotReplaceAKeyUnlessForced) {
  expect_ok("key gen --type ecdsa-p256 -o " + path("k.pem"));
  const std::vector<uint8_t> first = test::read_file(dir_ / "k.pem");
  test::CommandResult r = run("key gen --type ecdsa-p256 -o " + path("k.pem"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("already exists; use --force"), std::string::npos) << r.out;
  EXPECT_EQ(test::read_file(dir_ / "k.pem"), first);
  expect_ok("key gen --type ecdsa-p256 --force -o " + path("k.pem"));
  EXPECT_NE(test::read_file(dir_ / "k.pem"), first);
}

TEST_F(CliSigning, KeyDigestWritesTheEfuseBytes) {
  expect_ok("key digest " + vector_path("sbv2_rsa3072.pub.pem") + " -o " + path("d.bin"));
  EXPECT_EQ(last_, std::string(kRsaDigest) + "\n");
  EXPECT_EQ(test::read_file(dir_ / "d.bin"), test::read_file(vector_path("sbv2_rsa3072.digest.bin")));
}

TEST_F(CliSigning, CaIssueTakesACsr) {
  expect_ok("ca issue --ca " + test::test_data("signature").string() + " --csr " +
            vector_path("user_rsa3072.csr.pem") + " -o " + path("uac.pem"));
  const std::vector<uint8_t> pem = test::read_file(dir_ / "uac.pem");
  EXPECT_NE(tools::certificate_subject({pem.begin(), pem.end()}).find("CN=privota user-app developer"),
            std::string::npos);
}

// --- Damaged images: each row one case, each with its own reason. ---

// Base images are signed with the committed keys; trust = those keys / that CA.
struct Hostile {
  const char* name;
  bool user;                                   // user-cert image (else Secure Boot v2)
  void (*mutate)(std::vector<uint8_t>& file);  // may be null
  const char* extra_args;                      // appended to `image verify`
  const char* says;                            // the reason, a piece of the one line printed
};

void reseal_sbv2(std::vector<uint8_t>& b) {
  sbv2::seal_block({b.data() + kSector, sbv2::kBlockSize});
}
void reseal_user(std::vector<uint8_t>& b) {
  user_sig::seal_sector({b.data() + kSector, kSignatureSectorSize});
}
// Puts another certificate into the user sector with a correct length, NUL, padding and CRC.
void put_cert(std::vector<uint8_t>& b, const std::string& pem) {
  uint8_t* sector = b.data() + kSector;
  std::fill(sector + user_sig::kCertOffset, sector + user_sig::kZeroPadOffset, 0xFF);
  std::copy(pem.begin(), pem.end(), sector + user_sig::kCertOffset);
  sector[user_sig::kCertOffset + pem.size()] = 0;
  store_le32(sector + user_sig::kCertLenOffset, static_cast<uint32_t>(pem.size() + 1));
  reseal_user(b);
}
std::string vector_text(const std::string& name) {
  const std::vector<uint8_t> bytes = test::read_file(vector_path(name));
  return {bytes.begin(), bytes.end()};
}

// The built image is 3000 bytes of payload in a ~3.3 KiB image: its payload starts at 24 + 8 + 256 + 8 = 296.
const Hostile kHostile[] = {
    {"HeaderBitFlipped", false, [](auto& b) { b[12] ^= 0x80; }, "",
     "appended SHA-256 does not match the image"},
    {"PayloadFlipped", false, [](auto& b) { b[1000] ^= 0x01; }, "", "image checksum does not match"},
    {"PaddingFlipped", false, [](auto& b) { b[4000] ^= 0x01; }, "",
     "Secure Boot v2 block was made for a different image"},
    {"BlockVersionChanged", false,
     [](auto& b) {
       b[kSector + 1] = 0x05;
       reseal_sbv2(b);
     },
     "", "block version is neither RSA (2) nor ECDSA (3)"},
    {"BlockKeyChanged", false,
     [](auto& b) {
       b[kSector + 100] ^= 0x01;
       reseal_sbv2(b);
     },
     "", "signed by a key the device does not trust"},
    {"SignatureFlipped", false,
     [](auto& b) {
       b[kSector + 900] ^= 0x01;
       reseal_sbv2(b);
     },
     "", "RSA-PSS signature does not verify"},
    {"BlockCrcFlipped", false, [](auto& b) { b[kSector + 1196] ^= 0x01; }, "",
     "Secure Boot v2 block CRC does not match"},
    {"TruncatedBlock", false, [](auto& b) { b.resize(kSector + 600); }, "",
     "image ends before its signature sector"},
    {"MissingBlock", false, [](auto& b) { std::fill(b.begin() + kSector, b.end(), 0xFF); }, "",
     "no Secure Boot v2 signature block after the image"},
    {"TrailingJunk", false, [](auto& b) { b.insert(b.end(), 16, 0x00); }, "",
     "16 bytes after the signature sector"},
    {"OtherChip", false, nullptr, "--chip esp32s3", "image is built for esp32c3, this device is an esp32s3"},
    {"Downgrade", false, nullptr, "--min-secure-version 5",
     "image secure_version 4 is below the anti-rollback floor 5"},
    {"CertFlipped", true,
     [](auto& b) {
       b[kSector + user_sig::kCertOffset + 5] ^= 0x20;  // "-----BEGIN" -> "-----bEGIN"
       reseal_user(b);
     },
     "", "user-app certificate does not parse as PEM X.509"},
    {"WrongCa", true, nullptr, "OTHER_CA", "user-app certificate is not issued by the trusted CA"},
    {"CertOfAnotherKey", true,
     // A genuine certificate of the same CA, but for another RSA-3072 key.
     [](auto& b) {
       put_cert(b, tools::CertificateAuthority::load(test::test_data("signature"))
                       .issue(tools::Key::load(vector_path("sbv2_rsa3072.pub.pem")), std::nullopt, 30));
     },
     "", "user-app signature does not verify with the certificate's key"},
    {"Rsa2048Cert", true, [](auto& b) { put_cert(b, vector_text("uac_rsa2048.pem")); }, "",
     "user-app certificate key is not RSA-3072"},
    {"CertLongerThan3664", true,
     [](auto& b) {
       store_le32(&b[kSector + user_sig::kCertLenOffset], 3665);
       reseal_user(b);
     },
     "", "certificate length is 0 or more than 3664 bytes"},
    {"UserCrcFlipped", true, [](auto& b) { b[kSector + 4095] ^= 0x01; }, "",
     "user-app signature sector CRC does not match"},
    {"UserSectorMissing", true, [](auto& b) { std::fill(b.begin() + kSector, b.end(), 0xFF); }, "",
     "no user-app signature sector after the image"},
};

class CliVerifyRefuses : public CliSigning, public testing::WithParamInterface<Hostile> {
 protected:
  // The undamaged images, signed in this process with the committed keys: one CLI process per row is enough.
  struct Base {
    std::vector<uint8_t> sbv2, user;
  };
  static const Base& signed_base() {
    static const Base base = [] {
      tools::ImageSpec spec;
      spec.payload.assign(3000, 'p');
      spec.version = "2.0.1";
      spec.secure_version = 4;
      spec.project_name = "hello";
      const tools::BuiltImage image = tools::build_app_image(spec);
      EXPECT_EQ(image.error, "");
      std::vector<tools::Key> sbv2_key;
      sbv2_key.push_back(tools::Key::load(vector_path("sbv2_rsa3072.pem")));
      return Base{tools::sign_secure_boot_v2(image.bytes, sbv2_key),
                  tools::sign_user_app(image.bytes, tools::Key::load(vector_path("user_rsa3072.pem")),
                                       vector_text("uac.pem"))};
    }();
    return base;
  }

  // Signs the base image, applies the row's damage and runs `image verify` on it.
  test::CommandResult verify_damaged(const Hostile& row) {
    std::vector<uint8_t> bytes = row.user ? signed_base().user : signed_base().sbv2;
    if (row.mutate != nullptr) row.mutate(bytes);
    test::write_file(dir_ / "damaged.bin", bytes);
    std::string trust =
        row.user ? "--ca " + vector_path("ca_cert.pem") : "--key-digest " + std::string(kRsaDigest);
    std::string extra = row.extra_args;
    if (extra == "OTHER_CA") {
      trust = "--ca " + vector_path("other_ca_cert.pem");
      extra.clear();
    }
    return run("image verify " + path("damaged.bin") + " " + trust + " " + extra);
  }
};

TEST_P(CliVerifyRefuses, WithItsOwnReason) {
  const test::CommandResult r = verify_damaged(GetParam());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("privota: INVALID: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(GetParam().says), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Hostile, CliVerifyRefuses, testing::ValuesIn(kHostile),
                         [](const auto& info) { return info.param.name; });

TEST(CliVerifyTable, EveryRowExpectsADifferentReason) {
  std::set<std::string> reasons;
  for (const Hostile& row : kHostile) {
    for (const std::string& other : reasons) {
      EXPECT_EQ(other.find(row.says), std::string::npos) << row.name << " shares a reason";
      EXPECT_EQ(std::string(row.says).find(other), std::string::npos) << row.name << " shares a reason";
    }
    reasons.insert(row.says);
  }
}

// The library tests cover what the signer and the CA refuse; these are the CLI's own checks.
TEST_F(CliSigning, RefusesBadRequestsWithOneLine) {
  const std::string image = vector_path("hello_esp32c3.bin");
  for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
           {"image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " " + image + " -o " +
                path("x"),
            "exactly one --key and its --cert"},
           {"image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_rsa3072.pem") + " " +
                vector_path("hello.sbv2_rsa.bin") + " -o " + path("x"),
            "cannot sign '" + vector_path("hello.sbv2_rsa.bin") +
                "': the image already carries a signature sector"},
           {"image verify " + image, "say whom to trust"},
           {"image verify " + image + " --key-digest 1234", "not 32 bytes"},
           {"ca new -o " + test::test_data("signature").string(), "is not empty; use --force"},
           {"key digest " + vector_path("uac.pem"), "is not a PEM private or public key"},
           {"key gen --type rsa2048 -o " + path("x"),
            "unknown key type 'rsa2048'; known: rsa3072, ecdsa-p256"},
       }) {
    const test::CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(says), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}

}  // namespace
}  // namespace privota
