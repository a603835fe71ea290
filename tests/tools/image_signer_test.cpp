// privota signs like Espressif's tools: the same input and keys give the same bytes as the committed
// espsecure / esp_ps_secure_boot_util outputs everywhere except the (randomized) signature and CRC fields,
// the core verifies the result, and OpenSSL checks the signatures on its own.
#include "image_signer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

#include "privota/byte_order.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/secure_boot_v2.h"
#include "privota/signed_image.h"
#include "privota/user_app_signature.h"
#include "test_support.h"
#include "tool_error.h"

namespace privota {
namespace {

using tools::Key;
using Range = std::pair<size_t, size_t>;  // [first, last] byte offsets in the file, inclusive

constexpr size_t kSector = 4096;

std::string vector_path(const std::string& name) {
  return test::test_data("signature/" + name).string();
}
std::vector<uint8_t> vector_file(const std::string& name) {
  return test::read_file(vector_path(name));
}
std::string vector_text(const std::string& name) {
  const std::vector<uint8_t> bytes = vector_file(name);
  return {bytes.begin(), bytes.end()};
}
std::vector<Key> keys(std::initializer_list<const char*> names) {
  std::vector<Key> out;
  for (const char* name : names)
    out.push_back(Key::load(vector_path(name)));
  return out;
}
std::vector<uint8_t> hello() {
  return vector_file("hello_esp32c3.bin");
}

// Every byte outside `random` must be equal: those are the fields a re-run of Espressif's tool changes too.
void expect_equal_outside(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs,
                          std::vector<Range> random) {
  ASSERT_EQ(ours.size(), theirs.size());
  size_t differing = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const bool in_random = std::any_of(random.begin(), random.end(),
                                       [i](const Range& r) { return i >= r.first && i <= r.second; });
    if (in_random) {
      differing += ours[i] != theirs[i];
      continue;
    }
    ASSERT_EQ(ours[i], theirs[i]) << "at file offset " << i << " (sector offset " << int64_t(i) - 4096 << ")";
  }
  EXPECT_GT(differing, 0u) << "signatures are randomized; equal bytes mean a copied signature";
}

Range in_block(size_t block, size_t first, size_t last) {
  const size_t base = kSector + block * sbv2::kBlockSize;
  return {base + first, base + last};
}
const Range kRsaSignatureAndCrc{812, 1199};

Result<SignedImage> verify_sbv2(std::vector<uint8_t> bytes, std::initializer_list<const char*> trusted) {
  std::vector<KeyDigest> digests;
  for (const char* name : trusted) {
    const std::vector<uint8_t> d = vector_file(std::string(name) + ".digest.bin");
    std::memcpy(digests.emplace_back().bytes, d.data(), 32);
  }
  host::MemoryFlash region(std::move(bytes));
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  TrustPolicy policy;
  policy.trusted_keys = {digests.data(), digests.size()};
  std::vector<uint8_t> scratch(kSignatureSectorSize);
  return verify_signed_image(region, policy, sha, verifier, {scratch.data(), scratch.size()});
}

Result<SignedImage> verify_user(std::vector<uint8_t> bytes, const std::string& ca_name) {
  auto ca = host::MbedCertificateVerifier::from_pem(vector_text(ca_name));
  EXPECT_TRUE(ca.is_ok());
  host::MemoryFlash region(std::move(bytes));
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  TrustPolicy policy;
  policy.scheme = SignatureScheme::kUserAppCertificate;
  policy.user_ca = &ca.value();
  std::vector<uint8_t> scratch(kSignatureSectorSize);
  return verify_signed_image(region, policy, sha, verifier, {scratch.data(), scratch.size()});
}

TEST(ImageSigner, RsaSecureBootV2MatchesEspsecure) {
  const std::vector<uint8_t> ours = tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem"}));
  expect_equal_outside(ours, vector_file("hello.sbv2_rsa.bin"),
                       {in_block(0, kRsaSignatureAndCrc.first, kRsaSignatureAndCrc.second)});
  const Result<SignedImage> image = verify_sbv2(ours, {"sbv2_rsa3072"});
  ASSERT_TRUE(image.is_ok()) << image.status().reason();
  EXPECT_EQ(image->signed_size, 8192u);
}

TEST(ImageSigner, EcdsaSecureBootV2MatchesEspsecure) {
  const std::vector<uint8_t> ours = tools::sign_secure_boot_v2(hello(), keys({"sbv2_ecdsa_p256.pem"}));
  expect_equal_outside(ours, vector_file("hello.sbv2_ecdsa.bin"),
                       {in_block(0, 101, 164), in_block(0, 1196, 1199)});
  ASSERT_TRUE(verify_sbv2(ours, {"sbv2_ecdsa_p256"}).is_ok());
}

TEST(ImageSigner, TwoKeysMatchEspsecureInTheirOrder) {
  const std::vector<uint8_t> ours =
      tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem", "sbv2_rsa3072_other.pem"}));
  expect_equal_outside(ours, vector_file("hello.sbv2_two_keys.bin"),
                       {in_block(0, 812, 1199), in_block(1, 812, 1199)});
  const Result<SignedImage> second = verify_sbv2(ours, {"sbv2_rsa3072_other"});
  ASSERT_TRUE(second.is_ok()) << second.status().reason();
  EXPECT_EQ(second->block, 1);
}

TEST(ImageSigner, UserAppMatchesEspPrivSep) {
  const std::vector<uint8_t> ours =
      tools::sign_user_app(hello(), Key::load(vector_path("user_rsa3072.pem")), vector_text("uac.pem"));
  expect_equal_outside(ours, vector_file("hello.user_signed.bin"),
                       {{kSector + 36, kSector + 419}, {kSector + 4092, kSector + 4095}});
  const Result<SignedImage> image = verify_user(ours, "ca_cert.pem");
  ASSERT_TRUE(image.is_ok()) << image.status().reason();
}

TEST(ImageSigner, AcceptsAnImageAlreadyPaddedTo4KiB) {
  std::vector<uint8_t> padded = hello();
  padded.resize(kSector, 0xFF);
  const std::vector<uint8_t> ours = tools::sign_secure_boot_v2(padded, keys({"sbv2_rsa3072.pem"}));
  expect_equal_outside(ours, vector_file("hello.sbv2_rsa.bin"), {in_block(0, 812, 1199)});
}

// --- OpenSSL, not our verifier, checks the signatures. ---

class ImageSignerOpenSsl : public testing::Test {
 protected:
  // SHA-256 of the padded image, as the file the signature is over.
  std::string write_digest(const std::vector<uint8_t>& signed_image) {
    std::vector<uint8_t> digest(32);
    host::MbedSha256 sha;
    sha.update({signed_image.data(), kSector});
    uint8_t out[32];
    sha.finish(out);
    digest.assign(out, out + 32);
    test::write_file(dir_ / "digest.bin", digest);
    return (dir_ / "digest.bin").string();
  }
  std::string write_public_key(const char* name) {
    test::write_text(dir_ / "pub.pem", Key::load(vector_path(name)).public_pem());
    return (dir_ / "pub.pem").string();
  }
  test::CommandResult openssl_verify(const std::string& key, const std::vector<uint8_t>& signature,
                                     const std::string& options) {
    test::write_file(dir_ / "sig.bin", signature);
    return test::run_command("openssl pkeyutl -verify -pubin -inkey " + key + " -in " + write_digest(image_) +
                             " -sigfile " + (dir_ / "sig.bin").string() + " " + options);
  }

  static constexpr const char* kPss =
      "-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_mgf1_md:sha256 -pkeyopt "
      "rsa_pss_saltlen:";

  test::TempDir dir_;
  std::vector<uint8_t> image_;
};

TEST_F(ImageSignerOpenSsl, UserAppSignatureIsPssSha256Salt32BigEndian) {
  image_ = tools::sign_user_app(hello(), Key::load(vector_path("user_rsa3072.pem")), vector_text("uac.pem"));
  test::write_file(dir_ / "user.signed.bin", image_);
  const std::vector<uint8_t> signature(image_.begin() + kSector + 36, image_.begin() + kSector + 420);
  const std::string key = write_public_key("user_rsa3072.pem");
  const test::CommandResult ok = openssl_verify(key, signature, std::string(kPss) + "32");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("Signature Verified Successfully"), std::string::npos) << ok.out;
  // The salt really is 32 bytes: OpenSSL's strict check with another length fails.
  EXPECT_NE(openssl_verify(key, signature, std::string(kPss) + "0").exit_code, 0);
}

TEST_F(ImageSignerOpenSsl, SecureBootV2RsaSignatureIsPssLittleEndian) {
  image_ = tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem"}));
  std::vector<uint8_t> signature(image_.begin() + kSector + 812, image_.begin() + kSector + 1196);
  std::reverse(signature.begin(), signature.end());
  const test::CommandResult r =
      openssl_verify(write_public_key("sbv2_rsa3072.pem"), signature, std::string(kPss) + "32");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// r and s (little-endian in the block) as the DER SEQUENCE OpenSSL reads.
std::vector<uint8_t> der_signature(const uint8_t* r_le, const uint8_t* s_le) {
  auto integer = [](const uint8_t* le) {
    std::vector<uint8_t> be(le, le + 32);
    std::reverse(be.begin(), be.end());
    while (be.size() > 1 && be[0] == 0 && be[1] < 0x80)
      be.erase(be.begin());
    if (be[0] >= 0x80) be.insert(be.begin(), 0);
    be.insert(be.begin(), {0x02, static_cast<uint8_t>(be.size())});
    return be;
  };
  std::vector<uint8_t> body = integer(r_le);
  const std::vector<uint8_t> s = integer(s_le);
  body.insert(body.end(), s.begin(), s.end());
  body.insert(body.begin(), {0x30, static_cast<uint8_t>(body.size())});
  return body;
}

TEST_F(ImageSignerOpenSsl, SecureBootV2EcdsaSignatureIsLittleEndianRS) {
  image_ = tools::sign_secure_boot_v2(hello(), keys({"sbv2_ecdsa_p256.pem"}));
  const uint8_t* block = image_.data() + kSector;
  const test::CommandResult r =
      openssl_verify(write_public_key("sbv2_ecdsa_p256.pem"), der_signature(block + 101, block + 133), "");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST(ImageSigner, SignaturesAreRandomized) {
  const std::vector<Key> rsa = keys({"sbv2_rsa3072.pem"});
  EXPECT_NE(tools::sign_secure_boot_v2(hello(), rsa), tools::sign_secure_boot_v2(hello(), rsa));
}

TEST(ImageSigner, EcdsaSignaturesAreDeterministic) {
  // RFC 6979: the nonce comes from the key and the digest, so the block is the same every time.
  const std::vector<Key> ecdsa = keys({"sbv2_ecdsa_p256.pem"});
  EXPECT_EQ(tools::sign_secure_boot_v2(hello(), ecdsa), tools::sign_secure_boot_v2(hello(), ecdsa));
}

TEST(ImageSigner, AppendedBlockGoesAfterEspsecuresBlock) {
  const std::vector<uint8_t> ours =
      tools::append_secure_boot_v2(vector_file("hello.sbv2_rsa.bin"), keys({"sbv2_rsa3072_other.pem"}));
  // Block 0 is Espressif's one-key block, kept; block 1 as in their two-key image but for its signature.
  const std::vector<uint8_t> one = vector_file("hello.sbv2_rsa.bin");
  EXPECT_TRUE(std::equal(one.begin(), one.begin() + kSector + sbv2::kBlockSize, ours.begin()));
  std::vector<uint8_t> theirs = vector_file("hello.sbv2_two_keys.bin");
  std::copy(one.begin() + kSector, one.begin() + kSector + sbv2::kBlockSize, theirs.begin() + kSector);
  expect_equal_outside(ours, theirs, {in_block(1, 812, 1199)});
  const Result<SignedImage> second = verify_sbv2(ours, {"sbv2_rsa3072_other"});
  ASSERT_TRUE(second.is_ok()) << second.status().reason();
  EXPECT_EQ(second->block, 1);
}

TEST(ImageSigner, AttachingImageSignsOwnSignatureGivesTheSameBytes) {
  const std::vector<uint8_t> signed_image = tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem"}));
  std::vector<uint8_t> signature(signed_image.begin() + kSector + 812, signed_image.begin() + kSector + 1196);
  std::reverse(signature.begin(), signature.end());
  EXPECT_EQ(
      tools::attach_secure_boot_v2(hello(), Key::load(vector_path("sbv2_rsa3072.pub.pem")), signature, false),
      signed_image);
  EXPECT_EQ(tools::signed_digest(signed_image), tools::signed_digest(hello()));
}

// --- Refusals: each says what is wrong. ---

struct SignRefusal {
  const char* name;
  std::function<void()> sign;
  const char* says;
};

class ImageSignerRefuses : public testing::TestWithParam<SignRefusal> {};

TEST_P(ImageSignerRefuses, WithAReason) {
  try {
    GetParam().sign();
    FAIL() << "signed";
  } catch (const tools::ToolError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().says), std::string::npos) << e.what();
  }
}

std::vector<uint8_t> hello_with(size_t size, uint8_t fill) {
  std::vector<uint8_t> image = hello();
  image.resize(size, fill);
  return image;
}

void sign_user(const std::vector<uint8_t>& image, const char* key, const std::string& cert) {
  (void)tools::sign_user_app(image, Key::load(vector_path(key)), cert);
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, ImageSignerRefuses,
    testing::Values(
        SignRefusal{
            "AlreadySigned",
            [] { tools::sign_secure_boot_v2(vector_file("hello.sbv2_rsa.bin"), keys({"sbv2_rsa3072.pem"})); },
            "already carries a signature sector"},
        SignRefusal{"AlreadyUserSigned",
                    [] {
                      sign_user(vector_file("hello.user_signed.bin"), "user_rsa3072.pem",
                                vector_text("uac.pem"));
                    },
                    "already carries a signature sector"},
        SignRefusal{
            "DataPastThePadding",
            [] { tools::sign_secure_boot_v2(hello_with(kSector + 1, 0xFF), keys({"sbv2_rsa3072.pem"})); },
            "1 bytes follow the image past its 4 KiB boundary"},
        SignRefusal{"PaddingNotFF",
                    [] { tools::sign_secure_boot_v2(hello_with(2000, 0x00), keys({"sbv2_rsa3072.pem"})); },
                    "not 0xFF padding (0x00 at 0x560)"},
        SignRefusal{"NotAnImage",
                    [] { tools::sign_secure_boot_v2(vector_file("uac.pem"), keys({"sbv2_rsa3072.pem"})); },
                    "not a valid app image"},
        SignRefusal{"TruncatedImage",
                    [] { tools::sign_secure_boot_v2(hello_with(1000, 0), keys({"sbv2_rsa3072.pem"})); },
                    "ends before it is complete"},
        SignRefusal{"NoKeys", [] { tools::sign_secure_boot_v2(hello(), {}); }, "1 to 3 keys, not 0"},
        SignRefusal{"FourKeys",
                    [] {
                      tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem", "sbv2_rsa3072_other.pem",
                                                                "sbv2_ecdsa_p256.pem", "user_rsa3072.pem"}));
                    },
                    "1 to 3 keys, not 4"},
        SignRefusal{"SameKeyTwice",
                    [] {
                      tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem", "sbv2_rsa3072.pem"}));
                    },
                    "are the same key"},
        SignRefusal{"Sbv2Rsa2048", [] { tools::sign_secure_boot_v2(hello(), keys({"user_rsa2048.pem"})); },
                    "RSA-2048 key; Secure Boot v2 keys are RSA-3072 or ECDSA P-256"},
        SignRefusal{"Sbv2PublicKeyOnly",
                    [] { tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pub.pem"})); },
                    "only a public key"},
        SignRefusal{"UserRsa2048",
                    [] { sign_user(hello(), "user_rsa2048.pem", vector_text("uac_rsa2048.pem")); },
                    "RSA-2048 key; user-app signing keys are RSA-3072"},
        SignRefusal{"UserEcdsa", [] { sign_user(hello(), "sbv2_ecdsa_p256.pem", vector_text("uac.pem")); },
                    "ECDSA P-256 key; user-app signing keys are RSA-3072"},
        SignRefusal{"CertOfAnotherKey",
                    [] { sign_user(hello(), "sbv2_rsa3072.pem", vector_text("uac.pem")); },
                    "carries another public key"},
        SignRefusal{
            "CertTooLong",
            [] { sign_user(hello(), "user_rsa3072.pem", vector_text("uac.pem") + std::string(1900, '\n')); },
            "3694 bytes with its NUL; the user-app signature sector holds at most 3664"},
        SignRefusal{
            "TwoCerts",
            [] { sign_user(hello(), "user_rsa3072.pem", vector_text("uac.pem") + vector_text("uac.pem")); },
            "more than one certificate"},
        SignRefusal{"CertNotPem", [] { sign_user(hello(), "user_rsa3072.pem", "hello"); },
                    "does not parse as PEM X.509"},
        SignRefusal{"AppendToUnsigned",
                    [] { tools::append_secure_boot_v2(hello(), keys({"sbv2_rsa3072.pem"})); },
                    "the image is unsigned"},
        SignRefusal{"AppendToUserApp",
                    [] {
                      tools::append_secure_boot_v2(vector_file("hello.user_signed.bin"),
                                                   keys({"sbv2_rsa3072.pem"}));
                    },
                    "carries a user-app certificate sector"},
        SignRefusal{"AppendTheSameKey",
                    [] {
                      tools::append_secure_boot_v2(vector_file("hello.sbv2_rsa.bin"),
                                                   keys({"sbv2_rsa3072.pem"}));
                    },
                    "signed block 0 already"},
        SignRefusal{"AppendAFourthBlock",
                    [] {
                      tools::append_secure_boot_v2(vector_file("hello.sbv2_two_keys.bin"),
                                                   keys({"sbv2_ecdsa_p256.pem", "user_rsa3072.pem"}));
                    },
                    "takes 1 to 3 blocks; the image has 2 and 2 more"},
        SignRefusal{"AppendAfterADamagedBlock",
                    [] {
                      std::vector<uint8_t> image = vector_file("hello.sbv2_two_keys.bin");
                      image[kSector + sbv2::kBlockSize + 40] ^= 1;
                      tools::append_secure_boot_v2(image, keys({"sbv2_ecdsa_p256.pem"}));
                    },
                    "block 1 is damaged"},
        SignRefusal{"AppendAfterJunk",
                    [] {
                      std::vector<uint8_t> image = vector_file("hello.sbv2_rsa.bin");
                      image[kSector + 3000] = 0;
                      tools::append_secure_boot_v2(image, keys({"sbv2_ecdsa_p256.pem"}));
                    },
                    "holds data after its last block"},
        SignRefusal{"SectorCutShort",
                    [] {
                      std::vector<uint8_t> image = vector_file("hello.sbv2_rsa.bin");
                      image.resize(kSector + 2000);
                      tools::append_secure_boot_v2(image, keys({"sbv2_ecdsa_p256.pem"}));
                    },
                    "the signature sector after the image is 2000 bytes, not 4096"},
        SignRefusal{"AttachAnotherKeysSignature",
                    [] {
                      const std::vector<uint8_t> other =
                          tools::sign_secure_boot_v2(hello(), keys({"sbv2_rsa3072_other.pem"}));
                      std::vector<uint8_t> signature(other.begin() + kSector + 812,
                                                     other.begin() + kSector + 1196);
                      std::reverse(signature.begin(), signature.end());
                      tools::attach_secure_boot_v2(hello(), Key::load(vector_path("sbv2_rsa3072.pub.pem")),
                                                   signature, false);
                    },
                    "the signature does not verify with"},
        SignRefusal{"AttachEcdsaNotDer",
                    [] {
                      tools::attach_secure_boot_v2(hello(), Key::load(vector_path("sbv2_ecdsa_p256.pub.pem")),
                                                   std::vector<uint8_t>(72, 0x30), false);
                    },
                    "72 bytes and no ECDSA P-256 signature"},
        SignRefusal{
            "AttachUserWrongLength",
            [] { tools::attach_user_app(hello(), vector_text("uac.pem"), std::vector<uint8_t>(383)); },
            "the signature is 383 bytes; an RSA-3072 signature is 384"},
        SignRefusal{"AttachUserRsa2048Cert",
                    [] {
                      tools::attach_user_app(hello(), vector_text("uac_rsa2048.pem"),
                                             std::vector<uint8_t>(384));
                    },
                    "RSA-2048 key; user-app signing keys are RSA-3072"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace privota
