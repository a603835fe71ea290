// The user-app CA: certificates with esp_ps_secure_boot_util's profile that the device-side check (the core's
// CertificateVerifier on mbedTLS) accepts from their own CA only. CAs here reuse the committed RSA-3072 test
// keys, so no test waits for key generation (`privota ca new` generates one in cli_signing_test).
#include "certificate_authority.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "image_signer.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/signed_image.h"
#include "test_support.h"
#include "tool_error.h"

namespace privota {
namespace {

using tools::CertificateAuthority;
using tools::Key;

std::string vector_path(const std::string& name) {
  return test::test_data("signature/" + name).string();
}
std::string vector_text(const std::string& name) {
  const std::vector<uint8_t> bytes = test::read_file(vector_path(name));
  return {bytes.begin(), bytes.end()};
}

// Status of the device-side check of `uac` against `ca_pem`, and the key it certifies.
Status device_check(const std::string& ca_pem, const std::string& uac, CertifiedRsaKey* key = nullptr) {
  auto ca = host::MbedCertificateVerifier::from_pem(ca_pem);
  if (!ca.is_ok()) return ca.status();
  CertifiedRsaKey certified;
  const Status status =
      ca->verify_certificate({reinterpret_cast<const uint8_t*>(uac.data()), uac.size()}, certified);
  if (key != nullptr) *key = certified;
  return status;
}

// OpenSSL's reading of a certificate, as an independent look at its extensions.
std::string openssl_text(const test::TempDir& dir, const std::string& pem) {
  test::write_text(dir / "cert.pem", pem);
  return test::run_command("openssl x509 -noout -text -in " + (dir / "cert.pem").string()).out;
}

class CertificateAuthorityTest : public testing::Test {
 protected:
  CertificateAuthority ca_ =
      CertificateAuthority::create(Key::load(vector_path("other_ca_key.pem")), "CN=test CA, O=privota", 30);
  test::TempDir dir_;
};

TEST_F(CertificateAuthorityTest, NewCaIsASelfSignedRsa3072CaCertificate) {
  const std::string text = openssl_text(dir_, ca_.certificate_pem());
  EXPECT_NE(text.find("Version: 3 (0x2)"), std::string::npos) << text;
  EXPECT_NE(text.find("Signature Algorithm: sha256WithRSAEncryption"), std::string::npos);
  EXPECT_NE(text.find("Issuer: CN = test CA, O = privota"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: CN = test CA, O = privota"), std::string::npos) << text;
  EXPECT_NE(text.find("Public-Key: (3072 bit)"), std::string::npos);
  EXPECT_NE(text.find("X509v3 Basic Constraints: critical\n                CA:TRUE\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("Key Usage"), std::string::npos) << "esp_ps_secure_boot_util's CA has one extension";
  test::write_text(dir_ / "ca.pem", ca_.certificate_pem());
  const std::string ca = (dir_ / "ca.pem").string();
  EXPECT_EQ(test::run_command("openssl verify -CAfile " + ca + " " + ca).exit_code, 0);
  EXPECT_TRUE(host::MbedCertificateVerifier::from_pem(ca_.certificate_pem()).is_ok());
}

TEST_F(CertificateAuthorityTest, IssuedCertificateVerifiesAgainstItsCaOnly) {
  const std::string uac = ca_.issue(Key::load(vector_path("user_rsa3072.pem")), std::nullopt, 30);
  CertifiedRsaKey key;
  ASSERT_TRUE(device_check(ca_.certificate_pem(), uac, &key).is_ok());
  EXPECT_EQ(key.modulus_len, 384u);
  EXPECT_EQ(key.exponent, 65537u);
  EXPECT_EQ(tools::certificate_subject(uac), "CN=privota user app");
  // The committed CA of the same test suite did not issue it.
  EXPECT_EQ(device_check(vector_text("ca_cert.pem"), uac).code(), Code::kUntrusted);
  // And a certificate from another CA does not verify against this one.
  EXPECT_EQ(device_check(ca_.certificate_pem(), vector_text("uac.pem")).code(), Code::kUntrusted);

  const std::string text = openssl_text(dir_, uac);
  EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Digital Signature\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("Basic Constraints"), std::string::npos);
  EXPECT_NE(text.find("Issuer: CN = test CA, O = privota"), std::string::npos);
}

TEST_F(CertificateAuthorityTest, CsrGivesItsKeyAndSubject) {
  const std::string uac = ca_.issue_for_csr(vector_text("user_rsa3072.csr.pem"), std::nullopt, 30);
  ASSERT_TRUE(device_check(ca_.certificate_pem(), uac).is_ok());
  EXPECT_EQ(tools::certificate_subject(uac),
            "C=US, ST=Test State, L=Test City, O=privota test, OU=user app, CN=privota user-app developer, "
            "emailAddress=user@example.invalid");
  const std::string renamed = ca_.issue_for_csr(vector_text("user_rsa3072.csr.pem"), "CN=renamed", 30);
  EXPECT_EQ(tools::certificate_subject(renamed), "CN=renamed");
}

TEST_F(CertificateAuthorityTest, IssuerIsTheCaSubjectByteForByte) {
  // The committed CA (from esp_ps_secure_boot_util) mixes PrintableString, UTF8String and IA5String.
  CertificateAuthority espressif_ca = CertificateAuthority::load(test::test_data("signature"));
  const std::string uac = espressif_ca.issue(Key::load(vector_path("user_rsa3072.pem")), std::nullopt, 30);
  ASSERT_TRUE(device_check(vector_text("ca_cert.pem"), uac).is_ok());
  test::write_text(dir_ / "uac.pem", uac);
  const auto issuer_hash =
      test::run_command("openssl x509 -noout -issuer_hash -in " + (dir_ / "uac.pem").string());
  const auto ca_hash =
      test::run_command("openssl x509 -noout -subject_hash -in " + vector_path("ca_cert.pem"));
  EXPECT_EQ(issuer_hash.out, ca_hash.out);
  EXPECT_EQ(test::run_command("openssl verify -CAfile " + vector_path("ca_cert.pem") + " " +
                              (dir_ / "uac.pem").string())
                .exit_code,
            0);
}

TEST_F(CertificateAuthorityTest, IssuedCertificateSignsAUserAppTheDeviceAccepts) {
  const Key user = Key::load(vector_path("user_rsa3072.pem"));
  const std::string uac = ca_.issue(user, std::nullopt, 30);
  std::vector<uint8_t> image =
      tools::sign_user_app(test::read_file(vector_path("hello_esp32c3.bin")), user, uac);
  auto ca = host::MbedCertificateVerifier::from_pem(ca_.certificate_pem());
  ASSERT_TRUE(ca.is_ok());
  host::MemoryFlash region(std::move(image));
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  TrustPolicy policy;
  policy.scheme = SignatureScheme::kUserAppCertificate;
  policy.user_ca = &ca.value();
  std::vector<uint8_t> scratch(kSignatureSectorSize);
  const Result<SignedImage> verified =
      verify_signed_image(region, policy, sha, verifier, {scratch.data(), 4096});
  EXPECT_TRUE(verified.is_ok()) << verified.status().reason();
}

TEST_F(CertificateAuthorityTest, SavesAndLoadsADirectory) {
  const auto dir = dir_ / "ca";
  ca_.save(dir, false);
  struct stat st {};
  ASSERT_EQ(stat((dir / tools::kCaKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const CertificateAuthority loaded = CertificateAuthority::load(dir);
  EXPECT_EQ(loaded.certificate_pem(), ca_.certificate_pem());
  EXPECT_TRUE(loaded.key().same_public_key(ca_.key()));
  EXPECT_THROW(ca_.save(dir, false), tools::ToolError);
  ca_.save(dir, true);
}

struct CaRefusal {
  const char* name;
  std::function<void(CertificateAuthority&, const test::TempDir&)> act;
  const char* says;
};

class CertificateAuthorityRefuses : public CertificateAuthorityTest,
                                    public testing::WithParamInterface<CaRefusal> {};

TEST_P(CertificateAuthorityRefuses, WithAReason) {
  try {
    GetParam().act(ca_, dir_);
    FAIL() << "accepted";
  } catch (const tools::ToolError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().says), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, CertificateAuthorityRefuses,
    testing::Values(CaRefusal{"Rsa2048Key",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue(Key::load(vector_path("user_rsa2048.pem")), std::nullopt, 30);
                              },
                              "holds an RSA-2048 key; user-app keys must be RSA-3072"},
                    CaRefusal{"Rsa2048Csr",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue_for_csr(vector_text("user_rsa2048.csr.pem"), std::nullopt, 30);
                              },
                              "the CSR holds an RSA-2048 key"},
                    CaRefusal{"EcdsaKey",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue(Key::load(vector_path("sbv2_ecdsa_p256.pem")), std::nullopt, 30);
                              },
                              "holds an EC key"},
                    CaRefusal{"CsrWithABrokenSignature",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                std::string csr = vector_text("user_rsa3072.csr.pem");
                                // The last 512 base64 characters hold the signature; change one in the
                                // middle.
                                const size_t at = csr.find("-----END") - 200;
                                csr[at] = csr[at] == 'A' ? 'B' : 'A';
                                ca.issue_for_csr(csr, std::nullopt, 30);
                              },
                              "CSR's signature does not verify"},
                    CaRefusal{"NotACsr",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue_for_csr(vector_text("uac.pem"), std::nullopt, 30);
                              },
                              "not a PEM PKCS#10"},
                    CaRefusal{"BadSubject",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue(Key::load(vector_path("user_rsa3072.pem")), "just a name", 30);
                              },
                              "is not a distinguished name"},
                    CaRefusal{"ZeroDays",
                              [](CertificateAuthority& ca, const test::TempDir&) {
                                ca.issue(Key::load(vector_path("user_rsa3072.pem")), std::nullopt, 0);
                              },
                              "validity of 0 days"},
                    CaRefusal{"CaKeyRsa2048",
                              [](CertificateAuthority&, const test::TempDir&) {
                                CertificateAuthority::create(Key::load(vector_path("user_rsa2048.pem")),
                                                             "CN=x", 30);
                              },
                              "CA keys must be RSA-3072"},
                    CaRefusal{"CaKeyOfAnotherCertificate",
                              [](CertificateAuthority& ca, const test::TempDir& dir) {
                                ca.save(dir / "ca", false);
                                std::filesystem::copy_file(vector_path("ca_key.pem"),
                                                           dir / "ca" / tools::kCaKeyFile,
                                                           std::filesystem::copy_options::overwrite_existing);
                                CertificateAuthority::load(dir / "ca");
                              },
                              "is not the private key of"},
                    CaRefusal{"NotACaDirectory",
                              [](CertificateAuthority&, const test::TempDir& dir) {
                                CertificateAuthority::load(dir / "nope");
                              },
                              "is not a CA directory"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace privota
