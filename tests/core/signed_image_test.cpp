// Signed images from Espressif's own tools (tests/data/signature) verify in privota, and every way of
// damaging them is refused with its own reason.
#include "privota/signed_image.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/secure_boot_v2.h"
#include "privota/user_app_signature.h"
#include "test_support.h"

namespace privota {
namespace {

std::vector<uint8_t> vector_file(const std::string& name) {
  return test::read_file(test::test_data("signature/" + name));
}

KeyDigest digest_of(const std::string& key) {
  const std::vector<uint8_t> bytes = vector_file(key + ".digest.bin");
  KeyDigest digest;
  EXPECT_EQ(bytes.size(), 32u);
  std::memcpy(digest.bytes, bytes.data(), 32);
  return digest;
}

host::MbedCertificateVerifier ca_from(const std::string& name) {
  const std::vector<uint8_t> pem = vector_file(name);
  auto ca = host::MbedCertificateVerifier::from_pem(std::string(pem.begin(), pem.end()));
  EXPECT_TRUE(ca.is_ok()) << ca.status().reason();
  return std::move(ca.value());
}

class SignedImageTest : public testing::Test {
 protected:
  Result<SignedImage> verify_sbv2(std::vector<uint8_t> bytes, std::vector<KeyDigest> trusted,
                                  uint32_t min = 0) {
    host::MemoryFlash region(std::move(bytes));
    TrustPolicy policy;
    policy.scheme = SignatureScheme::kSecureBootV2;
    policy.trusted_keys = {trusted.data(), trusted.size()};
    policy.min_secure_version = min;
    return verify_signed_image(region, policy, sha_, verifier_, {scratch_, sizeof scratch_});
  }

  static TrustPolicy user_policy(CertificateVerifier& ca, uint32_t min = 0) {
    TrustPolicy policy;
    policy.scheme = SignatureScheme::kUserAppCertificate;
    policy.user_ca = &ca;
    policy.min_secure_version = min;
    return policy;
  }

  Result<SignedImage> verify_user(std::vector<uint8_t> bytes, CertificateVerifier& ca, uint32_t min = 0) {
    host::MemoryFlash region(std::move(bytes));
    return verify_signed_image(region, user_policy(ca, min), sha_, verifier_, {scratch_, sizeof scratch_});
  }

  host::MbedSha256 sha_;
  host::MbedSignatureVerifier verifier_;
  uint8_t scratch_[kSignatureSectorSize];
};

TEST_F(SignedImageTest, EspsecureRsaImageVerifies) {
  const Result<SignedImage> image =
      verify_sbv2(vector_file("hello.sbv2_rsa.bin"), {digest_of("sbv2_rsa3072")});
  ASSERT_TRUE(image.is_ok()) << image.status().reason();
  EXPECT_EQ(image->signed_size, 8192u);
  EXPECT_EQ(image->block, 0);
  EXPECT_STREQ(image->info.desc.project_name, "hello");
  // The README of the vectors gives the signed digest: SHA-256 of file[0:4096].
  EXPECT_EQ(image->signed_digest[0], 0x45);
  EXPECT_EQ(image->signed_digest[31], 0xe5);
}

TEST_F(SignedImageTest, EspsecureEcdsaImageVerifies) {
  const Result<SignedImage> image =
      verify_sbv2(vector_file("hello.sbv2_ecdsa.bin"), {digest_of("sbv2_ecdsa_p256")});
  ASSERT_TRUE(image.is_ok()) << image.status().reason();
}

TEST_F(SignedImageTest, EitherKeyOfATwoKeyImageVerifies) {
  const std::vector<uint8_t> bytes = vector_file("hello.sbv2_two_keys.bin");
  const Result<SignedImage> first = verify_sbv2(bytes, {digest_of("sbv2_rsa3072")});
  ASSERT_TRUE(first.is_ok()) << first.status().reason();
  EXPECT_EQ(first->block, 0);
  const Result<SignedImage> second = verify_sbv2(bytes, {digest_of("sbv2_rsa3072_other")});
  ASSERT_TRUE(second.is_ok()) << second.status().reason();
  EXPECT_EQ(second->block, 1);
}

TEST_F(SignedImageTest, EspPrivSepUserImageVerifies) {
  host::MbedCertificateVerifier ca = ca_from("ca_cert.pem");
  const Result<SignedImage> image = verify_user(vector_file("hello.user_signed.bin"), ca);
  ASSERT_TRUE(image.is_ok()) << image.status().reason();
  EXPECT_EQ(image->info.desc.secure_version, 3u);
}

// The two halves a firmware runs apart (the hash on the OTA job's stack, the signature on its main loop's)
// give what verify_signed_image() gives, through a read buffer of any size.
TEST_F(SignedImageTest, HashThenCheckGivesWhatVerifyGives) {
  host::MbedCertificateVerifier ca = ca_from("ca_cert.pem");
  host::MemoryFlash region(vector_file("hello.user_signed.bin"));
  TrustPolicy policy = user_policy(ca);
  const Result<SignedImage> whole = verify_signed_image(region, policy, sha_, verifier_, {scratch_, 4096});
  ASSERT_TRUE(whole.is_ok()) << whole.status().reason();
  for (size_t chunk : {1u, 100u, 1024u, 5000u}) {
    std::vector<uint8_t> buffer(chunk);
    SignedImage image;
    ASSERT_TRUE(hash_signed_image(region, policy, sha_, {buffer.data(), chunk}, image).is_ok()) << chunk;
    ASSERT_TRUE(check_signed_image(region, policy, sha_, verifier_, {scratch_, 4096}, image).is_ok())
        << chunk;
    EXPECT_EQ(image.signed_size, whole->signed_size);
    EXPECT_EQ(0, std::memcmp(image.signed_digest, whole->signed_digest, 32));
    EXPECT_STREQ(image.info.desc.version, whole->info.desc.version);
  }
  // The check alone judges the signature and anti-rollback: a digest that is not the image's is refused.
  SignedImage image;
  ASSERT_TRUE(hash_signed_image(region, policy, sha_, {scratch_, 4096}, image).is_ok());
  image.signed_digest[0] ^= 1;
  EXPECT_EQ(check_signed_image(region, policy, sha_, verifier_, {scratch_, 4096}, image).code(),
            Code::kBadHash);
  image.signed_digest[0] ^= 1;
  policy.min_secure_version = image.info.desc.secure_version + 1;
  EXPECT_EQ(check_signed_image(region, policy, sha_, verifier_, {scratch_, 4096}, image).code(),
            Code::kRollback);
}

TEST_F(SignedImageTest, TheHalvesRefuseBuffersTheyCannotWorkIn) {
  host::MbedCertificateVerifier ca = ca_from("ca_cert.pem");
  host::MemoryFlash region(vector_file("hello.user_signed.bin"));
  TrustPolicy policy = user_policy(ca);
  SignedImage image;
  const Status empty = hash_signed_image(region, policy, sha_, {}, image);
  EXPECT_EQ(empty.code(), Code::kInvalidArgument);
  EXPECT_STREQ(empty.reason(), "image read buffer is empty");
  ASSERT_TRUE(hash_signed_image(region, policy, sha_, {scratch_, 4096}, image).is_ok());
  const Status small = check_signed_image(region, policy, sha_, verifier_, {scratch_, 4095}, image);
  EXPECT_EQ(small.code(), Code::kInvalidArgument);
  EXPECT_STREQ(small.reason(), "scratch buffer is smaller than a signature sector");
  // An image whose signature sector would lie past the region (a caller's mix-up) is truncated, not read:
  // one that ends exactly at the region's end, and one whose padded end is beyond it.
  for (uint32_t size : {static_cast<uint32_t>(region.size()), static_cast<uint32_t>(region.size()) + 1}) {
    image.info.image_size = size;
    EXPECT_EQ(check_signed_image(region, policy, sha_, verifier_, {scratch_, 4096}, image).code(),
              Code::kTruncated)
        << size;
  }
}

// Images privota signed that espsecure verified (tests/data/signature/privota_signed/README.md).
TEST_F(SignedImageTest, PrivotaSignedImagesThatEspsecureAcceptedVerify) {
  struct Case {
    const char* file;
    const char* key;
    uint8_t block;
  };
  for (const Case& c : {Case{"rsa", "sbv2_rsa3072", 0}, Case{"ecdsa", "sbv2_ecdsa_p256", 0},
                        Case{"two", "sbv2_rsa3072_other", 1}}) {
    const std::string file = std::string("privota_signed/hello.privota_sbv2_") + c.file + ".bin";
    const std::vector<uint8_t> bytes = vector_file(file);
    const std::string transcript = [&] {
      const std::vector<uint8_t> t =
          vector_file("privota_signed/hello.privota_sbv2_" + std::string(c.file) + ".espsecure.txt");
      return std::string(t.begin(), t.end());
    }();
    EXPECT_NE(transcript.find("verification successful"), std::string::npos) << file;
    const Result<SignedImage> image = verify_sbv2(bytes, {digest_of(c.key)});
    ASSERT_TRUE(image.is_ok()) << file << ": " << image.status().reason();
    EXPECT_EQ(image->block, c.block);
  }
}

TEST_F(SignedImageTest, KeyDigestsMatchEspsecure) {
  host::MbedSha256 sha;
  for (const char* name : {"rsa", "ecdsa"}) {
    const std::vector<uint8_t> bytes = vector_file(std::string("hello.sbv2_") + name + ".bin");
    KeyDigest digest;
    sbv2::key_digest({bytes.data() + 4096, sbv2::kBlockSize}, sha, digest);
    const KeyDigest expected = digest_of(std::string(name) == "rsa" ? "sbv2_rsa3072" : "sbv2_ecdsa_p256");
    EXPECT_EQ(0, std::memcmp(digest.bytes, expected.bytes, 32)) << name;
  }
}

// --- Hostile cases, each a row with the code it must produce. ---

// Rewrites a block's or sector's CRC after a change, so the change reaches the check behind the CRC.
void reseal_sbv2(std::vector<uint8_t>& b, size_t block = 0) {
  sbv2::seal_block({b.data() + 4096 + block * 1216, 1216});
}
void reseal_user(std::vector<uint8_t>& b) {
  user_sig::seal_sector({b.data() + 4096, 4096});
}

struct Hostile {
  const char* name;
  const char* file;  // a vector in tests/data/signature
  void (*mutate)(std::vector<uint8_t>&);
  Code expected;
  const char* ca = "ca_cert.pem";  // for user-signed images
  uint32_t min_secure_version = 0;
};

class SignedImageRefuses : public SignedImageTest, public testing::WithParamInterface<Hostile> {};

TEST_P(SignedImageRefuses, WithItsOwnReason) {
  std::vector<uint8_t> bytes = vector_file(GetParam().file);
  GetParam().mutate(bytes);
  Result<SignedImage> image = Status::error(Code::kBadState, "not run");
  if (std::string(GetParam().file).find("user") != std::string::npos) {
    host::MbedCertificateVerifier ca = ca_from(GetParam().ca);
    image = verify_user(bytes, ca, GetParam().min_secure_version);
  } else {
    image = verify_sbv2(bytes, {digest_of("sbv2_rsa3072"), digest_of("sbv2_ecdsa_p256")},
                        GetParam().min_secure_version);
  }
  EXPECT_EQ(image.status().code(), GetParam().expected) << image.status().reason();
}

constexpr size_t kSector = 4096;
void nothing(std::vector<uint8_t>&) {}

// Replaces the user sector's certificate with another PEM (from the vectors) and fixes lengths and CRC.
void put_cert(std::vector<uint8_t>& b, const std::string& name) {
  const std::vector<uint8_t> pem = vector_file(name);
  uint8_t* sector = b.data() + kSector;
  std::fill(sector + user_sig::kCertOffset, sector + user_sig::kZeroPadOffset, 0xFF);
  std::memcpy(sector + user_sig::kCertOffset, pem.data(), pem.size());
  sector[user_sig::kCertOffset + pem.size()] = 0;
  store_le32(sector + user_sig::kCertLenOffset, static_cast<uint32_t>(pem.size() + 1));
  reseal_user(b);
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, SignedImageRefuses,
    testing::Values(
        // Secure Boot v2
        Hostile{"Sbv2ImageHeaderFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[4] ^= 1; }, Code::kBadHash},
        Hostile{"Sbv2SegmentFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[600] ^= 1; }, Code::kBadChecksum},
        Hostile{"Sbv2AppendedHashFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[1375] ^= 1; },
                Code::kBadHash},
        Hostile{"Sbv2PaddingFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[3000] ^= 1; }, Code::kBadHash},
        Hostile{"Sbv2MagicFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[kSector] ^= 1; }, Code::kBadMagic},
        Hostile{"Sbv2CrcFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[kSector + 1196] ^= 1; },
                Code::kBadChecksum},
        Hostile{"Sbv2KeyFlipped", "hello.sbv2_rsa.bin", [](auto& b) { b[kSector + 100] ^= 1; },
                Code::kBadChecksum},
        Hostile{"Sbv2SignatureFlippedAndResealed", "hello.sbv2_rsa.bin",
                [](auto& b) {
                  b[kSector + 900] ^= 1;
                  reseal_sbv2(b);
                },
                Code::kBadSignature},
        Hostile{"Sbv2DigestFieldChangedAndResealed", "hello.sbv2_rsa.bin",
                [](auto& b) {
                  b[kSector + 10] ^= 1;
                  reseal_sbv2(b);
                },
                Code::kBadHash},
        Hostile{"Sbv2UnknownVersion", "hello.sbv2_rsa.bin",
                [](auto& b) {
                  b[kSector + 1] = 0x07;
                  reseal_sbv2(b);
                },
                Code::kUnsupported},
        Hostile{"Sbv2EcdsaOtherCurve", "hello.sbv2_ecdsa.bin",
                [](auto& b) {
                  b[kSector + 36] = 1;  // P-192
                  reseal_sbv2(b);
                },
                Code::kUnsupported},
        Hostile{"Sbv2EcdsaSignatureChanged", "hello.sbv2_ecdsa.bin",
                [](auto& b) {
                  b[kSector + 110] ^= 4;
                  reseal_sbv2(b);
                },
                Code::kBadSignature},
        Hostile{"Sbv2UntrustedKey", "hello.sbv2_two_keys.bin",
                [](auto& b) { std::copy_n(b.begin() + kSector + 1216, 1216, b.begin() + kSector); },
                Code::kUntrusted},
        Hostile{"Sbv2MissingBlock", "hello.sbv2_rsa.bin",
                [](auto& b) { std::fill(b.begin() + kSector, b.end(), 0xFF); }, Code::kNotFound},
        Hostile{"Sbv2JunkAfterBlocks", "hello.sbv2_rsa.bin", [](auto& b) { b[kSector + 3000] = 0; },
                Code::kTrailingData},
        Hostile{"Sbv2DamagedSecondBlock", "hello.sbv2_two_keys.bin",
                [](auto& b) { b[kSector + 1216 + 40] ^= 1; }, Code::kBadChecksum},
        Hostile{"Sbv2TruncatedBlock", "hello.sbv2_rsa.bin", [](auto& b) { b.resize(kSector + 600); },
                Code::kTruncated},
        Hostile{"Sbv2NoSignatureSector", "hello.sbv2_rsa.bin", [](auto& b) { b.resize(kSector); },
                Code::kTruncated},
        Hostile{"Sbv2Downgrade", "hello.sbv2_rsa.bin", nothing, Code::kRollback, "", 4},
        // User-app certificate scheme
        Hostile{"UserHeaderFlipped", "hello.user_signed.bin", [](auto& b) { b[12] ^= 0x80; }, Code::kBadHash},
        Hostile{"UserSegmentFlipped", "hello.user_signed.bin", [](auto& b) { b[1000] ^= 2; },
                Code::kBadChecksum},
        Hostile{"UserPaddingFlipped", "hello.user_signed.bin", [](auto& b) { b[4095] ^= 1; }, Code::kBadHash},
        Hostile{"UserMagicFlipped", "hello.user_signed.bin", [](auto& b) { b[kSector] ^= 1; },
                Code::kBadMagic},
        Hostile{"UserCertFlipped", "hello.user_signed.bin", [](auto& b) { b[kSector + 500] ^= 1; },
                Code::kBadChecksum},
        Hostile{"UserSignatureFlipped", "hello.user_signed.bin", [](auto& b) { b[kSector + 40] ^= 1; },
                Code::kBadChecksum},
        Hostile{"UserSignatureFlippedAndResealed", "hello.user_signed.bin",
                [](auto& b) {
                  b[kSector + 40] ^= 1;
                  reseal_user(b);
                },
                Code::kBadSignature},
        Hostile{"UserBadCrc", "hello.user_signed.bin", [](auto& b) { b[kSector + 4095] ^= 1; },
                Code::kBadChecksum},
        Hostile{"UserVersion2", "hello.user_signed.bin",
                [](auto& b) {
                  b[kSector + 1] = 2;
                  reseal_user(b);
                },
                Code::kUnsupported},
        Hostile{"UserDigestFieldChanged", "hello.user_signed.bin",
                [](auto& b) {
                  b[kSector + 5] ^= 1;
                  reseal_user(b);
                },
                Code::kBadHash},
        Hostile{"UserWrongCa", "hello.user_signed.bin", nothing, Code::kUntrusted, "other_ca_cert.pem"},
        Hostile{"UserCertFromOtherCa", "hello.user_signed.bin",
                [](auto& b) { put_cert(b, "uac_other_ca.pem"); }, Code::kUntrusted},
        Hostile{"UserCertOfAnotherKey", "hello.user_signed.bin",
                [](auto& b) { put_cert(b, "uac_rsa2048.pem"); }, Code::kUnsupported},
        Hostile{"UserCertIsTheCa", "hello.user_signed.bin", [](auto& b) { put_cert(b, "ca_cert.pem"); },
                Code::kBadSignature},
        Hostile{"UserCertLongerThan3664", "hello.user_signed.bin",
                [](auto& b) {
                  store_le32(&b[kSector + user_sig::kCertLenOffset], 3665);
                  reseal_user(b);
                },
                Code::kBadLength},
        Hostile{"UserCertNotNulTerminated", "hello.user_signed.bin",
                [](auto& b) {
                  store_le32(&b[kSector + user_sig::kCertLenOffset], 1000);
                  reseal_user(b);
                },
                Code::kBadLength},
        Hostile{"UserJunkAfterCert", "hello.user_signed.bin",
                [](auto& b) {
                  b[kSector + 3000] = 0x41;
                  reseal_user(b);
                },
                Code::kTrailingData},
        Hostile{"UserMissingSector", "hello.user_signed.bin",
                [](auto& b) { std::fill(b.begin() + kSector, b.end(), 0xFF); }, Code::kNotFound},
        Hostile{"UserTruncatedSector", "hello.user_signed.bin", [](auto& b) { b.resize(kSector + 2000); },
                Code::kTruncated},
        Hostile{"UserDowngrade", "hello.user_signed.bin", nothing, Code::kRollback, "ca_cert.pem", 4}),
    [](const auto& info) { return info.param.name; });

TEST_F(SignedImageTest, ARandomBitFlipInAnyByteIsRefused) {
  std::mt19937 random(2026);
  host::MbedCertificateVerifier ca = ca_from("ca_cert.pem");
  for (const char* file : {"hello.sbv2_rsa.bin", "hello.user_signed.bin"}) {
    const std::vector<uint8_t> good = vector_file(file);
    const bool user = std::string(file).find("user") != std::string::npos;
    for (size_t at = 0; at < good.size(); ++at) {
      std::vector<uint8_t> bad = good;
      bad[at] ^= static_cast<uint8_t>(1u << (random() % 8));
      const Result<SignedImage> image =
          user ? verify_user(bad, ca) : verify_sbv2(bad, {digest_of("sbv2_rsa3072")});
      ASSERT_FALSE(image.is_ok()) << file << ": flip at " << at << " accepted";
    }
  }
}

}  // namespace
}  // namespace privota
