// Keys as Espressif's tools write them: PEM in and out, types, generation, and the Secure Boot v2 key digest
// (equal to espsecure.py digest_sbv2_public_key's output in tests/data/signature).
#include "key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>

#include "test_support.h"
#include "tool_error.h"

namespace privota {
namespace {

using tools::Key;
using tools::KeyKind;

std::string vector_path(const std::string& name) {
  return test::test_data("signature/" + name).string();
}

std::array<uint8_t, 32> committed_digest(const std::string& key) {
  const std::vector<uint8_t> bytes = test::read_file(vector_path(key + ".digest.bin"));
  std::array<uint8_t, 32> out{};
  EXPECT_EQ(bytes.size(), out.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), out.size()), out.begin());
  return out;
}

TEST(KeyFile, DigestsOfTheVectorKeysEqualEspsecures) {
  for (const char* name : {"sbv2_rsa3072", "sbv2_rsa3072_other", "sbv2_ecdsa_p256"}) {
    const std::array<uint8_t, 32> expected = committed_digest(name);
    EXPECT_EQ(Key::load(vector_path(std::string(name) + ".pem")).sbv2_key_digest(), expected) << name;
    EXPECT_EQ(Key::load(vector_path(std::string(name) + ".pub.pem")).sbv2_key_digest(), expected) << name;
  }
}

TEST(KeyFile, RsaBlockKeyCarriesTheMontgomeryConstants) {
  // n, e, rinv, mdash as the ROM wants them; the vector block holds exactly these 776 bytes.
  const std::vector<uint8_t> signed_image = test::read_file(vector_path("hello.sbv2_rsa.bin"));
  const std::vector<uint8_t> from_block(signed_image.begin() + 4096 + 36, signed_image.begin() + 4096 + 812);
  EXPECT_EQ(Key::load(vector_path("sbv2_rsa3072.pem")).sbv2_public_key(), from_block);
}

TEST(KeyFile, TellsKeyTypes) {
  const Key rsa = Key::load(vector_path("sbv2_rsa3072.pem"));
  EXPECT_TRUE(rsa.is_private());
  EXPECT_TRUE(rsa.is(KeyKind::kRsa3072));
  EXPECT_EQ(rsa.description(), "RSA-3072");
  const Key rsa_public = Key::load(vector_path("sbv2_rsa3072.pub.pem"));
  EXPECT_FALSE(rsa_public.is_private());
  EXPECT_TRUE(rsa_public.same_public_key(rsa));
  const Key ec = Key::load(vector_path("sbv2_ecdsa_p256.pem"));
  EXPECT_TRUE(ec.is(KeyKind::kEcdsaP256));
  EXPECT_EQ(ec.description(), "ECDSA P-256");
  const Key small = Key::load(vector_path("user_rsa2048.pem"));
  EXPECT_EQ(small.description(), "RSA-2048");
  EXPECT_FALSE(small.is(KeyKind::kRsa3072));
  EXPECT_FALSE(small.same_public_key(rsa));
}

TEST(KeyFile, GeneratedKeysHaveTheRightTypeAndSurvivePem) {
  tools::Random random;
  for (const KeyKind kind : {KeyKind::kEcdsaP256, KeyKind::kRsa3072}) {
    const Key key = Key::generate(kind, random);
    EXPECT_TRUE(key.is(kind));
    EXPECT_TRUE(key.is_private());
    EXPECT_EQ(key.bits(), kind == KeyKind::kRsa3072 ? 3072u : 256u);
    const std::string pem = key.private_pem();
    // The PEM kinds espsecure writes: PKCS#1 for RSA, SEC1 for EC.
    EXPECT_EQ(pem.rfind(kind == KeyKind::kRsa3072 ? "-----BEGIN RSA PRIVATE KEY-----"
                                                  : "-----BEGIN EC PRIVATE KEY-----",
                        0),
              0u);
    const Key again = Key::from_pem(pem, "again");
    EXPECT_TRUE(again.same_public_key(key));
    EXPECT_EQ(Key::from_pem(key.public_pem(), "public").sbv2_key_digest(), key.sbv2_key_digest());
  }
}

TEST(KeyFile, RefusesWhatIsNotAKeySbv2Knows) {
  EXPECT_THROW(Key::load(vector_path("user_rsa2048.pem")).sbv2_key_digest(), tools::ToolError);
  EXPECT_THROW(Key::load(vector_path("ca_cert.pem")), tools::ToolError);
  EXPECT_THROW(Key::from_pem("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "x"),
               tools::ToolError);
  EXPECT_THROW(Key::load(vector_path("sbv2_rsa3072.pub.pem")).private_pem(), tools::ToolError);
  try {
    (void)Key::load(vector_path("user_rsa2048.pem")).sbv2_key_digest();
  } catch (const tools::ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("RSA-2048"), std::string::npos) << e.what();
  }
}

TEST(KeyFile, SecretFilesAreOwnerOnlyAndNotReplacedSilently) {
  test::TempDir dir;
  const auto path = dir / "key.pem";
  tools::write_secret_file({path, false, {}}, "secret");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THROW(tools::write_secret_file({path, false, {}}, "other"), tools::ToolError);
  tools::write_secret_file({path, true, {}}, "other");
  const std::vector<uint8_t> bytes = test::read_file(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "other");
  EXPECT_EQ(
      std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()),
      1);
}

TEST(KeyFile, ParsesHex) {
  EXPECT_EQ(tools::from_hex("00aBff", "x"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_EQ(tools::from_hex("0x10", "x"), (std::vector<uint8_t>{0x10}));
  for (const char* bad : {"", "abc", "zz", "0x"})
    EXPECT_THROW(tools::from_hex(bad, "x"), tools::ToolError) << bad;
}

}  // namespace
}  // namespace privota
