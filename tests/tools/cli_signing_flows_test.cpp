// Issue 16, item 13 (the CLI): what firmware engineers expect from espsecure and imgtool. `image info` shows
// who signed, `key export-public` and `key csr` replace openssl, `image sign --append` adds Secure Boot v2
// blocks, `image digest` + `image attach-signature` sign with a key held elsewhere (an HSM; here openssl
// plays it), `flash new --size` takes real flash sizes only, and `--version` answers. All through the real
// binary, with Espressif's own signed images where they can judge.
#include <regex>

#include "cli_fixture.h"

namespace privota {
namespace {

// tests/data/signature/README.md: what espsecure.py digest_sbv2_public_key printed for the committed keys.
constexpr const char* kRsaDigest = "07c0d4a4ce38d94131e74c11b7b1287645dce35c9276943cc4f3ba2092983c52";
constexpr const char* kOtherDigest = "2e2a58772a96beac3f4f2a9231f8ffaeeef19748ab5f217672541273db046d2e";
constexpr const char* kEcdsaDigest = "a6af04912e63c30de97b5ad48e7e1c427a10399c326d5380d4370d26871cad1a";
constexpr size_t kSector = 4096;
constexpr size_t kBlock = 1216;

class CliSigningFlows : public test::CliFixture {
 protected:
  std::vector<uint8_t> file(const std::string& name) { return test::read_file(dir_ / name); }
  std::string text_of(const std::string& name) {
    const std::vector<uint8_t> bytes = test::read_file(name);
    return {bytes.begin(), bytes.end()};
  }
  void sign(const std::string& key, const std::string& in, const std::string& out,
            const std::string& more = "") {
    expect_ok("image sign --scheme secure-boot-v2 --key " + key + " " + more + " " + path(in) + " -o " +
              path(out));
  }
  std::string verify(const std::string& image, const std::string& trust) {
    const test::CommandResult r = run("image verify " + path(image) + " " + trust);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return r.out;
  }
  // What an HSM does with `image digest`'s output: openssl signs the 32 bytes as a prehashed SHA-256.
  void openssl_sign(const std::string& key, const std::string& digest, const std::string& out, bool pss) {
    const std::string options = pss ? " -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt "
                                      "rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256"
                                    : " -pkeyopt digest:sha256";
    const test::CommandResult r = test::run_command("openssl pkeyutl -sign -inkey " + key + " -in " +
                                                    path(digest) + " -out " + path(out) + options);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  // A signature as it sits in a signed image, turned back into the big-endian form a signer hands over.
  void extract(const std::string& image, size_t offset, size_t size, bool reversed, const std::string& out) {
    const std::vector<uint8_t> bytes = file(image);
    std::vector<uint8_t> signature(bytes.begin() + offset, bytes.begin() + offset + size);
    if (reversed) std::reverse(signature.begin(), signature.end());
    test::write_file(dir_ / out, signature);
  }
};

// --- image info ---

TEST_F(CliSigningFlows, ImageInfoShowsEachSecureBootV2BlockAsEspsecureDoes) {
  // espsecure.py signature_info_v2 printed these digests for Espressif's two-key image.
  const test::CommandResult r = run("image info " + vector_path("hello.sbv2_two_keys.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Signature:         Secure Boot v2, 2 blocks\n"
                       "  block 0:         RSA-3072-PSS, key digest " +
                       std::string(kRsaDigest) + "\n  block 1:         RSA-3072-PSS, key digest " +
                       kOtherDigest + "\n"),
            std::string::npos)
      << r.out;
  const nlohmann::json j = json_of("image info " + vector_path("hello.sbv2_two_keys.bin"));
  EXPECT_EQ(j["signature"]["scheme"], "secure-boot-v2");
  ASSERT_EQ(j["signature"]["blocks"].size(), 2u);
  EXPECT_EQ(j["signature"]["blocks"][1]["key_digest"], kOtherDigest);
  EXPECT_EQ(j["signature"]["blocks"][1]["scheme"], "RSA-3072-PSS");
  EXPECT_EQ(j["signature"]["blocks"][1]["image_digest_matches"], true);

  const nlohmann::json ecdsa = json_of("image info " + vector_path("hello.sbv2_ecdsa.bin"));
  EXPECT_EQ(ecdsa["signature"]["blocks"][0]["scheme"], "ECDSA P-256");
  EXPECT_EQ(ecdsa["signature"]["blocks"][0]["key_digest"], kEcdsaDigest);
}

TEST_F(CliSigningFlows, ImageInfoSaysWhenABlockWasMadeForAnotherImage) {
  // Espressif's block after another image: intact, but its stored digest is not this image's.
  build_image("app.bin", "1.0.0", 0);
  std::vector<uint8_t> bytes = file("app.bin");
  bytes.resize(kSector, 0xFF);
  const std::vector<uint8_t> theirs = test::read_file(vector_path("hello.sbv2_rsa.bin"));
  bytes.insert(bytes.end(), theirs.begin() + kSector, theirs.end());
  test::write_file(dir_ / "mixed.bin", bytes);
  expect_ok("image info " + path("mixed.bin"));
  EXPECT_NE(last_.find("RSA-3072-PSS, key digest " + std::string(kRsaDigest) +
                       " (made for another image: its digest differs)"),
            std::string::npos)
      << last_;
  EXPECT_EQ(json_of("image info " + path("mixed.bin"))["signature"]["blocks"][0]["image_digest_matches"],
            false);
}

TEST_F(CliSigningFlows, ImageInfoShowsTheUserAppCertificate) {
  const test::CommandResult r = run("image info " + vector_path("hello.user_signed.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Signature:         user-app certificate\n  subject:         "), std::string::npos)
      << r.out;
  const std::regex lines(
      R"(subject: +[^\n]*CN=privota user-app developer[^\n]*\n  issuer: +[^\n]*CN=privota protected-app test CA)");
  EXPECT_TRUE(std::regex_search(r.out, lines)) << r.out;
  const nlohmann::json j = json_of("image info " + vector_path("hello.user_signed.bin"));
  EXPECT_EQ(j["signature"]["scheme"], "user-cert");
  EXPECT_NE(j["signature"]["certificate_subject"].get<std::string>().find("CN=privota user-app developer"),
            std::string::npos);
  EXPECT_NE(j["signature"]["certificate_issuer"].get<std::string>().find("CN=privota protected-app test CA"),
            std::string::npos);
  EXPECT_EQ(j["signature"]["image_digest_matches"], true);

  expect_ok("image info " + vector_path("hello_esp32c3.bin"));
  EXPECT_NE(last_.find("Signature:         none (unsigned)\n"), std::string::npos) << last_;
  EXPECT_EQ(json_of("image info " + vector_path("hello_esp32c3.bin"))["signature"]["scheme"], "none");
}

// --- key export-public, key csr ---

TEST_F(CliSigningFlows, KeyExportPublicWritesWhatEspsecureExtracts) {
  for (const char* key : {"sbv2_rsa3072", "sbv2_ecdsa_p256"}) {
    SCOPED_TRACE(key);
    const std::string out = path(std::string(key) + ".pub.pem");
    expect_ok("key export-public " + vector_path(std::string(key) + ".pem") + " -o " + out);
    // espsecure.py extract_public_key wrote the committed files.
    EXPECT_EQ(test::read_file(out), test::read_file(vector_path(std::string(key) + ".pub.pem")));
    expect_ok("key digest " + out);
    EXPECT_EQ(last_, std::string(std::string(key) == "sbv2_rsa3072" ? kRsaDigest : kEcdsaDigest) + "\n");
  }
  const std::string export_rsa = "key export-public " + vector_path("sbv2_rsa3072.pem");
  expect_refused(export_rsa + " -o " + path("sbv2_rsa3072.pub.pem"), "already exists; use --force");
  expect_ok(export_rsa + " --force -o " + path("sbv2_rsa3072.pub.pem"));
  test::write_text(dir_ / "mine.pem", text_of(vector_path("sbv2_rsa3072.pem")));
  expect_refused("key export-public " + path("mine.pem") + " --force -o " + path("mine.pem"),
                 "is also this command's input");
  EXPECT_EQ(file("mine.pem"), test::read_file(vector_path("sbv2_rsa3072.pem")));
  expect_refused("key export-public " + path("missing.pem") + " -o " + path("x.pem"), "cannot read");
  expect_refused("key export-public " + vector_path("uac.pem") + " -o " + path("x.pem"),
                 "is not a PEM private or public key");
}

TEST_F(CliSigningFlows, KeyCsrGetsAUserAppCertificateWithoutOpenssl) {
  expect_ok("key csr " + vector_path("user_rsa3072.pem") + " --subject 'CN=Jane Developer, O=Acme' -o " +
            path("dev.csr"));
  // OpenSSL reads it as a request whose self-signature verifies.
  const test::CommandResult check =
      test::run_command("openssl req -in " + path("dev.csr") + " -noout -verify");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  // The owner issues from it (the committed CA directory), the developer signs with it, a device accepts it.
  expect_ok("ca issue --ca " + test::test_data("signature").string() + " --csr " + path("dev.csr") + " -o " +
            path("dev.uac.pem"));
  build_image("u.bin", "1.0.0", 1);
  expect_ok("image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " --cert " +
            path("dev.uac.pem") + " " + path("u.bin") + " -o " + path("u.signed.bin"));
  EXPECT_NE(verify("u.signed.bin", "--ca " + vector_path("ca_cert.pem"))
                .find("certificate subject 'CN=Jane Developer, O=Acme'"),
            std::string::npos)
      << last_;

  expect_refused("key csr " + vector_path("user_rsa3072.pem") + " -o " + path("dev.csr"),
                 "already exists; use --force");
  expect_refused("key csr " + vector_path("sbv2_ecdsa_p256.pem") + " -o " + path("ec.csr"),
                 "holds an ECDSA P-256 key; user-app keys must be RSA-3072");
  expect_refused("key csr " + vector_path("user_rsa2048.pem") + " -o " + path("2048.csr"),
                 "holds an RSA-2048 key; user-app keys must be RSA-3072");
  expect_refused("key csr " + vector_path("sbv2_rsa3072.pub.pem") + " -o " + path("pub.csr"),
                 "holds only a public key; a request is signed with the private key");
  expect_refused("key csr " + vector_path("user_rsa3072.pem") + " --subject 'Jane' -o " + path("bad.csr"),
                 "subject 'Jane' is not a distinguished name");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ec.csr"));
}

// --- image sign --append ---

TEST_F(CliSigningFlows, AppendAddsBlocksUpToThreeAndAnyTrustedOneVerifies) {
  build_image("app.bin", "1.0.0", 0);
  sign(vector_path("sbv2_rsa3072.pem"), "app.bin", "one.bin");
  sign(vector_path("sbv2_rsa3072_other.pem"), "one.bin", "two.bin", "--append");
  // The first block is kept byte for byte; the image and its padding too.
  const std::vector<uint8_t> one = file("one.bin"), two = file("two.bin");
  ASSERT_EQ(two.size(), one.size());
  EXPECT_TRUE(std::equal(one.begin(), one.begin() + kSector + kBlock, two.begin()));
  EXPECT_NE(verify("two.bin", "--key-digest " + std::string(kRsaDigest)).find("signed by block 0"),
            std::string::npos);
  EXPECT_NE(verify("two.bin", "--key-digest " + std::string(kOtherDigest)).find("signed by block 1"),
            std::string::npos);

  // A third key (any RSA-3072 key will do), then no more: a chip trusts at most three.
  sign(vector_path("user_rsa3072.pem"), "two.bin", "three.bin", "--append");
  expect_ok("key digest " + vector_path("user_rsa3072.pem"));
  const std::string third = last_.substr(0, 64);
  const nlohmann::json info = json_of("image info " + path("three.bin"));
  ASSERT_EQ(info["signature"]["blocks"].size(), 3u);
  EXPECT_EQ(info["signature"]["blocks"][2]["key_digest"], third);
  // Several digests trusted, one of them matching a block: VALID, by that block.
  EXPECT_NE(verify("three.bin", "--key-digest " + std::string(kEcdsaDigest) + " --key-digest " + third)
                .find("signed by block 2"),
            std::string::npos);
  expect_refused("image verify " + path("three.bin") + " --key-digest " + kEcdsaDigest,
                 "signed by a key the device does not trust");
  expect_refused("image sign --scheme secure-boot-v2 --append --key " + vector_path("sbv2_rsa3072.pem") +
                     " " + path("three.bin") + " -o " + path("four.bin"),
                 "Secure Boot v2 takes 1 to 3 blocks; the image has 3");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "four.bin"));

  // The device's own check (the slot verifier `flash show` runs) accepts it by its third block too.
  new_flash();
  expect_ok("flash write " + path("flash.bin") + " --partition ota_0 " + path("three.bin"));
  const nlohmann::json show = json_of("flash show " + path("flash.bin") + " --key-digest " + third);
  EXPECT_EQ(show["slots"][0]["verdict"]["reason"], "VALID") << show["slots"][0];
}

TEST_F(CliSigningFlows, AppendLaysOutBlocksAsEspsecureDoes) {
  // Espressif's one-key image plus our block for the second key: its image and block 0 kept byte for byte,
  // and block 1 laid out as in Espressif's two-key image (signed by the same second key), but for the
  // randomized RSA-PSS signature and the CRC over it.
  const std::vector<uint8_t> one = test::read_file(vector_path("hello.sbv2_rsa.bin"));
  test::write_file(dir_ / "rsa.bin", one);
  sign(vector_path("sbv2_rsa3072_other.pem"), "rsa.bin", "two.bin", "--append");
  const std::vector<uint8_t> ours = file("two.bin");
  const std::vector<uint8_t> theirs = test::read_file(vector_path("hello.sbv2_two_keys.bin"));
  ASSERT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(std::equal(one.begin(), one.begin() + kSector + kBlock, ours.begin()));
  const size_t random_first = kSector + kBlock + 812, random_last = kSector + kBlock + 1199;
  for (size_t i = kSector + kBlock; i < ours.size(); ++i) {
    if (i >= random_first && i <= random_last) continue;
    ASSERT_EQ(ours[i], theirs[i]) << "at file offset " << i;
  }
  EXPECT_NE(verify("two.bin", "--key " + vector_path("sbv2_rsa3072_other.pub.pem")).find("signed by block 1"),
            std::string::npos);
}

TEST_F(CliSigningFlows, AppendRefusesWhatItCannotExtend) {
  build_image("app.bin", "1.0.0", 0);
  sign(vector_path("sbv2_rsa3072.pem"), "app.bin", "one.bin");
  // Espressif's block after our image: intact, but made for another image.
  std::vector<uint8_t> mixed = file("app.bin");
  mixed.resize(kSector, 0xFF);
  const std::vector<uint8_t> theirs = test::read_file(vector_path("hello.sbv2_rsa.bin"));
  mixed.insert(mixed.end(), theirs.begin() + kSector, theirs.end());
  test::write_file(dir_ / "mixed.bin", mixed);
  const std::string append_other =
      "image sign --scheme secure-boot-v2 --append --key " + vector_path("sbv2_rsa3072_other.pem") + " ";
  for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
           {append_other + path("app.bin") + " -o " + path("x.bin"),
            "the image is unsigned; --append adds a block to a Secure Boot v2 signed image"},
           {append_other + vector_path("hello.user_signed.bin") + " -o " + path("x.bin"),
            "the image carries a user-app certificate sector; only Secure Boot v2 images take more"},
           {append_other + path("mixed.bin") + " -o " + path("x.bin"),
            "block 0 was made for a different image (its digest differs)"},
           {"image sign --scheme secure-boot-v2 --append --key " + vector_path("sbv2_rsa3072.pem") + " " +
                path("one.bin") + " -o " + path("x.bin"),
            "'" + vector_path("sbv2_rsa3072.pem") + "' signed block 0 already"},
           {"image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_rsa3072_other.pem") + " " +
                path("one.bin") + " -o " + path("x.bin"),
            "already carries a signature sector; sign the unsigned image (or add a Secure Boot v2 block with "
            "--append)"},
           {"image sign --scheme user-cert --append --key " + vector_path("user_rsa3072.pem") + " --cert " +
                vector_path("uac.pem") + " " + path("app.bin") + " -o " + path("x.bin"),
            "--append adds Secure Boot v2 blocks; a user-app image carries one signature"},
           {"image sign --scheme secure-boot-v2 --append --key " + vector_path("sbv2_ecdsa_p256.pem") + " " +
                path("one.bin") + " -o " + path("x.bin"),
            "esp32c3's Secure Boot v2 verifies RSA-3072 only"},
       }) {
    expect_refused(args, says);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.bin")) << args;
  }
}

TEST_F(CliSigningFlows, ChipsWithOneKeyTakeOneBlock) {
  // The ESP32 (v3) checks one block, the ESP32-C2 has one key digest: a second block would never count.
  build_image("esp32.bin", "1.0.0", 0, "esp32");
  sign(vector_path("sbv2_rsa3072.pem"), "esp32.bin", "one.bin");
  expect_refused("image sign --scheme secure-boot-v2 --append --key " +
                     vector_path("sbv2_rsa3072_other.pem") + " " + path("one.bin") + " -o " + path("x.bin"),
                 "(built for esp32): its Secure Boot v2 uses one signature block");
  build_image("c2.bin", "1.0.0", 0, "esp32c2");
  expect_refused("image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_ecdsa_p256.pem") +
                     " --key " + path("ec2.pem") + " " + path("c2.bin") + " -o " + path("x.bin"),
                 "cannot read");  // the second key is missing: refused before any chip rule
  expect_ok("key gen --type ecdsa-p256 -o " + path("ec2.pem"));
  expect_refused("image sign --scheme secure-boot-v2 --key " + vector_path("sbv2_ecdsa_p256.pem") +
                     " --key " + path("ec2.pem") + " " + path("c2.bin") + " -o " + path("x.bin"),
                 "(built for esp32c2): its Secure Boot v2 uses one signature block");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.bin"));
}

// --- image digest -> external signature -> image attach-signature ---

TEST_F(CliSigningFlows, DigestIsWhatTheSignatureCovers) {
  build_image("app.bin", "1.0.0", 0);
  std::vector<uint8_t> padded = file("app.bin");
  padded.resize(kSector, 0xFF);
  test::write_file(dir_ / "padded.bin", padded);
  const test::CommandResult sha = test::run_command("openssl dgst -sha256 -r " + path("padded.bin"));
  ASSERT_EQ(sha.exit_code, 0) << sha.out;
  expect_ok("image digest " + path("app.bin") + " -o " + path("d.bin"));
  EXPECT_EQ(last_, sha.out.substr(0, 64) + "\n");
  EXPECT_EQ(file("d.bin").size(), 32u);
  EXPECT_EQ(json_of("image digest " + path("app.bin"))["digest"], sha.out.substr(0, 64));
  // A signed image has the same digest: the signature sector is not covered.
  sign(vector_path("sbv2_rsa3072.pem"), "app.bin", "signed.bin");
  expect_ok("image digest " + path("signed.bin"));
  EXPECT_EQ(last_, sha.out.substr(0, 64) + "\n");
  expect_refused("image digest " + path("app.bin") + " -o " + path("d.bin"), "already exists; use --force");
  expect_refused("image digest " + path("missing.bin"), "cannot read");
  expect_refused("image digest " + vector_path("uac.pem"), "not a valid app image");
}

TEST_F(CliSigningFlows, AnRsaSignatureFromOutsideMakesTheImageImageSignMakes) {
  build_image("app.bin", "1.0.0", 0);
  expect_ok("image digest " + path("app.bin") + " -o " + path("d.bin"));
  openssl_sign(vector_path("sbv2_rsa3072.pem"), "d.bin", "sig.bin", true);
  expect_ok("key export-public " + vector_path("sbv2_rsa3072.pem") + " -o " + path("pub.pem"));
  expect_ok("image attach-signature " + path("app.bin") + " --signature " + path("sig.bin") + " --pubkey " +
            path("pub.pem") + " -o " + path("hsm.bin"));
  EXPECT_NE(verify("hsm.bin", "--key-digest " + std::string(kRsaDigest)).find("VALID"), std::string::npos);

  // RSA-PSS is randomized, so byte equality with `image sign` needs the same signature: take image sign's
  // own, as a signer would have handed it over (big-endian), and attach it.
  sign(vector_path("sbv2_rsa3072.pem"), "app.bin", "signed.bin");
  extract("signed.bin", kSector + 812, 384, true, "same.sig");
  expect_ok("image attach-signature " + path("app.bin") + " --signature " + path("same.sig") + " --pubkey " +
            path("pub.pem") + " -o " + path("attached.bin"));
  EXPECT_EQ(file("attached.bin"), file("signed.bin"));

  // The HSM adds a second block to a signed image: --append.
  expect_ok("image digest " + path("signed.bin") + " -o " + path("d2.bin"));
  EXPECT_EQ(file("d2.bin"), file("d.bin"));
  openssl_sign(vector_path("sbv2_rsa3072_other.pem"), "d2.bin", "sig2.bin", true);
  expect_ok("image attach-signature --append " + path("signed.bin") + " --signature " + path("sig2.bin") +
            " --pubkey " + vector_path("sbv2_rsa3072_other.pub.pem") + " -o " + path("two.bin"));
  EXPECT_NE(verify("two.bin", "--key-digest " + std::string(kOtherDigest)).find("signed by block 1"),
            std::string::npos);
}

TEST_F(CliSigningFlows, AnEcdsaSignatureFromOutsideMakesTheSameBytesAsImageSign) {
  build_image("c6.bin", "1.0.0", 0, "esp32c6");
  // ECDSA here is deterministic (RFC 6979): the same image and key sign to the same bytes.
  sign(vector_path("sbv2_ecdsa_p256.pem"), "c6.bin", "signed.bin");
  sign(vector_path("sbv2_ecdsa_p256.pem"), "c6.bin", "again.bin");
  EXPECT_EQ(file("signed.bin"), file("again.bin"));

  // openssl (random nonce, DER) as the HSM: a valid block of its own.
  expect_ok("image digest " + path("c6.bin") + " -o " + path("d.bin"));
  openssl_sign(vector_path("sbv2_ecdsa_p256.pem"), "d.bin", "sig.der", false);
  const std::string pub = vector_path("sbv2_ecdsa_p256.pub.pem");
  expect_ok("image attach-signature " + path("c6.bin") + " --signature " + path("sig.der") + " --pubkey " +
            pub + " -o " + path("hsm.bin"));
  EXPECT_NE(verify("hsm.bin", "--key-digest " + std::string(kEcdsaDigest) + " --chip esp32c6").find("VALID"),
            std::string::npos);

  // The signature image sign made, as 64 bytes r | s (PKCS#11's form): byte for byte image sign's image.
  std::vector<uint8_t> raw = file("signed.bin");
  std::vector<uint8_t> r(raw.begin() + kSector + 101, raw.begin() + kSector + 133);
  std::vector<uint8_t> s(raw.begin() + kSector + 133, raw.begin() + kSector + 165);
  std::reverse(r.begin(), r.end());
  std::reverse(s.begin(), s.end());
  r.insert(r.end(), s.begin(), s.end());
  test::write_file(dir_ / "rs.sig", r);
  expect_ok("image attach-signature " + path("c6.bin") + " --signature " + path("rs.sig") + " --pubkey " +
            pub + " -o " + path("attached.bin"));
  EXPECT_EQ(file("attached.bin"), file("signed.bin"));
}

TEST_F(CliSigningFlows, AUserAppSignatureFromOutsideMakesTheImageImageSignMakes) {
  build_image("u.bin", "1.0.0", 1);
  expect_ok("image digest " + path("u.bin") + " -o " + path("d.bin"));
  openssl_sign(vector_path("user_rsa3072.pem"), "d.bin", "sig.bin", true);
  expect_ok("image attach-signature " + path("u.bin") + " --signature " + path("sig.bin") + " --cert " +
            vector_path("uac.pem") + " -o " + path("hsm.bin"));
  EXPECT_NE(verify("hsm.bin", "--ca " + vector_path("ca_cert.pem")).find("VALID"), std::string::npos);

  expect_ok("image sign --scheme user-cert --key " + vector_path("user_rsa3072.pem") + " --cert " +
            vector_path("uac.pem") + " " + path("u.bin") + " -o " + path("signed.bin"));
  extract("signed.bin", kSector + 36, 384, false, "same.sig");
  expect_ok("image attach-signature " + path("u.bin") + " --signature " + path("same.sig") + " --cert " +
            vector_path("uac.pem") + " -o " + path("attached.bin"));
  EXPECT_EQ(file("attached.bin"), file("signed.bin"));
}

TEST_F(CliSigningFlows, AttachSignatureRefusesWhatWouldNotVerify) {
  build_image("app.bin", "1.0.0", 0);
  build_image("u.bin", "1.0.0", 1);
  expect_ok("image digest " + path("app.bin") + " -o " + path("d.bin"));
  openssl_sign(vector_path("sbv2_rsa3072.pem"), "d.bin", "sig.bin", true);
  openssl_sign(vector_path("sbv2_ecdsa_p256.pem"), "d.bin", "ec.sig", false);
  test::write_text(dir_ / "short.sig", std::string(100, 's'));
  test::write_text(dir_ / "junk70.sig", std::string(70, 'j'));
  sign(vector_path("sbv2_rsa3072.pem"), "app.bin", "one.bin");
  sign(vector_path("sbv2_rsa3072_other.pem"), "one.bin", "two.bin", "--append");
  sign(vector_path("user_rsa3072.pem"), "two.bin", "three.bin", "--append");
  const std::string attach = "image attach-signature " + path("app.bin") + " --signature ";
  for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
           // Signed by owner.pem, claimed to be the other key's.
           {attach + path("sig.bin") + " --pubkey " + vector_path("sbv2_rsa3072_other.pub.pem"),
            "the signature does not verify with '" + vector_path("sbv2_rsa3072_other.pub.pem") + "'"},
           {attach + path("short.sig") + " --pubkey " + vector_path("sbv2_rsa3072.pub.pem"),
            "the signature is 100 bytes; an RSA-3072 signature is 384"},
           {"image attach-signature " + path("app.bin") + " --signature " + path("ec.sig") + " --pubkey " +
                vector_path("sbv2_ecdsa_p256.pub.pem"),
            "esp32c3's Secure Boot v2 verifies RSA-3072 only"},
           {attach + path("sig.bin") + " --pubkey " + vector_path("user_rsa2048.pem"),
            "RSA-2048 key; Secure Boot v2 keys are RSA-3072 or ECDSA P-256"},
           {attach + path("missing.sig") + " --pubkey " + vector_path("sbv2_rsa3072.pub.pem"), "cannot read"},
           {attach + path("sig.bin"), "say who signed: --pubkey KEY (Secure Boot v2) or --cert UAC"},
           {"image attach-signature " + path("one.bin") + " --signature " + path("sig.bin") + " --pubkey " +
                vector_path("sbv2_rsa3072_other.pub.pem"),
            "already carries a signature sector"},
           {"image attach-signature --append " + path("three.bin") + " --signature " + path("sig.bin") +
                " --pubkey " + vector_path("sbv2_ecdsa_p256.pub.pem"),
            "esp32c3's Secure Boot v2 verifies RSA-3072 only"},
           {"image attach-signature --append " + path("three.bin") + " --signature " + path("sig.bin") +
                " --pubkey " + vector_path("sbv2_rsa3072.pub.pem"),
            "Secure Boot v2 takes 1 to 3 blocks; the image has 3"},
           {"image attach-signature " + path("u.bin") + " --signature " + path("sig.bin") + " --cert " +
                vector_path("uac.pem"),
            "the signature does not verify with the certificate's key"},
           {"image attach-signature --append " + path("u.bin") + " --signature " + path("sig.bin") +
                " --cert " + vector_path("uac.pem"),
            "--append adds Secure Boot v2 blocks"},
       }) {
    expect_refused(args + " -o " + path("x.bin"), says);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.bin")) << args;
  }
  // An ECDSA signature that is neither DER nor 64 bytes (on a chip that takes ECDSA).
  build_image("c6.bin", "1.0.0", 0, "esp32c6");
  expect_refused("image attach-signature " + path("c6.bin") + " --signature " + path("junk70.sig") +
                     " --pubkey " + vector_path("sbv2_ecdsa_p256.pub.pem") + " -o " + path("x.bin"),
                 "the signature is 70 bytes and no ECDSA P-256 signature");
  // --pubkey and --cert together is a usage error.
  expect_refused(attach + path("sig.bin") + " --pubkey " + vector_path("sbv2_rsa3072.pub.pem") + " --cert " +
                     vector_path("uac.pem") + " -o " + path("x.bin"),
                 "excludes", 64);
}

// --- flash new --size, --version ---

TEST_F(CliSigningFlows, FlashNewTakesOnlyTheSizesFlashChipsComeIn) {
  for (const auto& [size, bytes] : std::vector<std::pair<std::string, uintmax_t>>{
           {"8MB", 8u << 20}, {"16MB", 16u << 20}, {"0x400000", 4u << 20}}) {
    expect_ok("flash new --force --table " + seed_table() + " --size " + size + " -o " + path("flash.bin"));
    EXPECT_EQ(std::filesystem::file_size(dir_ / "flash.bin"), bytes) << size;
  }
  test::write_text(dir_ / "small.csv", "nvs, data, nvs, , 0x6000,\n");
  for (const char* size : {"1MB", "2MB"})
    expect_ok("flash new --force --table " + path("small.csv") + " --size " + size + " -o " + path("f.bin"));
  for (const char* size : {"3MB", "0x400001", "64K", "32MB", "1500K"}) {
    expect_refused("flash new --force --table " + seed_table() + " --size " + size + " -o " + path("x.bin"),
                   "is not one a chip has; use 1MB, 2MB, 4MB, 8MB or 16MB");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.bin"));
}

TEST_F(CliSigningFlows, VersionSaysTheProjectVersion) {
  // The version CMake's project() gives.
  const std::string cmake = text_of(std::string(PRIVOTA_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(privota VERSION ([0-9.]+))")));
  expect_ok("--version");
  EXPECT_EQ(last_, "privota " + m[1].str() + "\n");
}

TEST_F(CliSigningFlows, NewCommandsHaveHelp) {
  for (const char* command : {"key export-public", "key csr", "image digest", "image attach-signature"}) {
    expect_ok(std::string(command) + " --help");
    EXPECT_NE(last_.find("Usage"), std::string::npos) << command;
  }
  expect_ok("image sign --help");
  EXPECT_NE(last_.find("--append"), std::string::npos);
}

}  // namespace
}  // namespace privota
