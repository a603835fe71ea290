// privota image sign|verify: Secure Boot v2 (protected app) and user-app certificate (user app) signatures.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "certificate_authority.h"
#include "commands.h"
#include "file_io.h"
#include "image_report.h"
#include "image_signer.h"
#include "key_file.h"
#include "privota/byte_order.h"
#include "privota/chip.h"
#include "privota/host/chip_names.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/secure_boot_v2.h"
#include "privota/signed_image.h"
#include "privota/user_app_signature.h"
#include "signature_kind.h"
#include "tool_error.h"
#include "trust_options.h"

namespace privota::cli {
namespace {

using tools::ToolError;

constexpr const char* kSchemeSbv2 = "secure-boot-v2";
constexpr const char* kSchemeUser = "user-cert";

uint8_t sbv2_block_version(const tools::Key& key) {
  return key.is(tools::KeyKind::kEcdsaP256) ? sbv2::kVersionEcdsa : sbv2::kVersionRsa;
}

const char* sbv2_block_scheme(uint8_t version) {
  return version == sbv2::kVersionEcdsa ? "ECDSA P-256" : "RSA-3072";
}

}  // namespace

void check_chip_verifies(const std::vector<uint8_t>& image, const tools::Key& key, const std::string& name) {
  if (image.size() < kImageHeaderSize) return;  // the signer says what is wrong with it
  const ChipInfo* chip = chip_by_id(load_le16(image.data() + 12));
  if (!chip) return;
  if (!chip_verifies_sbv2_block(*chip, sbv2_block_version(key))) {
    throw ToolError(fmt::format("cannot sign '{}' (built for {}): {}; '{}' is an {} key", name, chip->name,
                                host::sbv2_schemes_sentence(*chip), key.name(), key.description()));
  }
}

void check_chip_takes_blocks(const std::vector<uint8_t>& image, size_t blocks, const std::string& name) {
  if (image.size() < kImageHeaderSize || blocks <= 1) return;
  const ChipInfo* chip = chip_by_id(load_le16(image.data() + 12));
  // ESP-IDF's Secure Boot v2 guide: the ESP32 (v3.0) takes one signature block, and the ESP32-C2 stores one
  // key digest in eFuse; a second block there is never checked.
  if (chip && (chip->id == ChipId::kEsp32 || chip->id == ChipId::kEsp32C2)) {
    throw ToolError(fmt::format(
        "cannot sign '{}' (built for {}): its Secure Boot v2 uses one signature block; a second would never "
        "be checked",
        name, chip->name));
  }
}

namespace {

void add_sign(CLI::App& group) {
  struct Options {
    std::string scheme, cert, input, output;
    std::vector<std::string> keys;
    bool force = false, append = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "sign",
      "Sign an app image: pad it to 4 KiB and append a signature sector. secure-boot-v2 = the protected app "
      "(espsecure.py sign_data --version 2 layout, RSA-3072 or ECDSA P-256, up to 3 keys; --append adds "
      "blocks to a signed image); user-cert = the user app (ESP-PrivSep sign_user_app layout, RSA-3072 key "
      "and its user-app certificate)");
  cmd->add_option("--scheme", o->scheme, "secure-boot-v2 or user-cert")
      ->required()
      ->check(CLI::IsMember({kSchemeSbv2, kSchemeUser}));
  cmd->add_option("--key", o->keys, "private key (PEM); secure-boot-v2 takes up to 3, one block each")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--cert", o->cert, "user-cert: the user-app certificate (PEM) issued for --key");
  cmd->add_option("image", o->input,
                  "the unsigned app image (from `privota image build`); with --append, the signed one")
      ->required();
  cmd->add_flag("--append", o->append,
                "secure-boot-v2: keep the blocks the image carries and add one per --key after them (3 "
                "blocks at most; espsecure's --append_signatures)");
  cmd->add_option("-o,--output", o->output, "where to write the signed image (never the input itself)")
      ->required();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    tools::OutputFile out{o->output, o->force, {o->input, o->cert}};
    out.inputs.insert(out.inputs.end(), o->keys.begin(), o->keys.end());
    tools::check_output(out);
    const bool user = o->scheme == kSchemeUser;
    if (user && (o->keys.size() != 1 || o->cert.empty())) {
      throw ToolError("--scheme user-cert takes exactly one --key and its --cert");
    }
    if (!user && !o->cert.empty()) throw ToolError("--cert belongs to --scheme user-cert");
    if (user && o->append) {
      throw ToolError("--append adds Secure Boot v2 blocks; a user-app image carries one signature");
    }
    std::vector<tools::Key> keys;
    for (const std::string& path : o->keys)
      keys.push_back(tools::Key::load(path));
    const std::vector<uint8_t> image = tools::read_binary_file(o->input);
    if (!user) {
      for (const tools::Key& key : keys)
        check_chip_verifies(image, key, o->input);
      check_chip_takes_blocks(image, o->append ? keys.size() + 1 : keys.size(), o->input);
    }
    std::vector<uint8_t> signed_image;
    try {
      signed_image = user        ? tools::sign_user_app(image, keys.front(), tools::read_text_file(o->cert))
                     : o->append ? tools::append_secure_boot_v2(image, keys)
                                 : tools::sign_secure_boot_v2(image, keys);
    } catch (const ToolError& e) {
      throw ToolError(fmt::format("cannot sign '{}': {}", o->input, e.what()));
    }
    tools::write_output(out, signed_image);
  });
}

struct VerifyOptions {
  std::string input, chip;
  tools::TrustOptions trust;
  uint32_t min_secure_version = 0;
  bool json = false;
};

// Who signed, for the verdict: the block's key digest, or the certificate's subject.
nlohmann::json signer_of(const SignedImage& image, bool user, const std::vector<uint8_t>& bytes) {
  const uint8_t* sector = bytes.data() + image.signed_size - kSignatureSectorSize;
  if (user) {
    const uint32_t cert_len = load_le32(sector + user_sig::kCertLenOffset);
    const std::string pem(reinterpret_cast<const char*>(sector + user_sig::kCertOffset), cert_len - 1);
    return {{"certificate_subject", tools::certificate_subject(pem)}};
  }
  host::MbedSha256 sha;
  KeyDigest digest;
  sbv2::key_digest({sector + image.block * sbv2::kBlockSize, sbv2::kBlockSize}, sha, digest);
  return {{"block", image.block}, {"key_digest", tools::hex(digest.bytes, sizeof digest.bytes)}};
}

// An image checked with the other level's trust, or not signed at all, gets its own words instead of the
// first format check that happens to fail.
std::optional<std::string> wrong_trust(const std::vector<uint8_t>& bytes, bool user) {
  switch (tools::signature_kind(bytes)) {
    case tools::SignatureKind::kUnsigned:
      return "the image is unsigned (no signature sector after it); sign it with `privota image sign`";
    case tools::SignatureKind::kSecureBootV2:
      if (user) return "this is a Secure Boot v2 image (a protected app); use --key-digest or --key";
      break;
    case tools::SignatureKind::kUserAppCertificate:
      if (!user) return "this is a user-app certificate image (a user app); use --ca";
      break;
    case tools::SignatureKind::kNotAnImage:
    case tools::SignatureKind::kUnknownSector:
      break;
  }
  return std::nullopt;
}

void verify(const VerifyOptions& o) {
  tools::Trust trust(o.trust);
  const bool user = trust.user_app();
  TrustPolicy policy = trust.policy();
  policy.min_secure_version = o.min_secure_version;
  if (!o.chip.empty()) {
    const auto chip = chip_by_name(o.chip.c_str());
    if (!chip) throw ToolError(fmt::format("unknown chip '{}'; known: {}", o.chip, host::chip_names()));
    policy.limits.expected_chip = chip->id;
  }

  const std::vector<uint8_t> bytes = tools::read_binary_file(o.input);
  if (bytes.size() > UINT32_MAX) throw ToolError(fmt::format("'{}' is larger than any flash", o.input));
  host::MemoryFlash region(bytes);
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  std::vector<uint8_t> scratch(kSignatureSectorSize);
  const Result<SignedImage> image =
      verify_signed_image(region, policy, sha, verifier, {scratch.data(), scratch.size()});
  if (!image.is_ok()) {
    tools::DeviceFacts facts{policy.min_secure_version, std::nullopt};
    if (policy.limits.expected_chip != ChipId::kAny)
      facts.chip = static_cast<uint16_t>(policy.limits.expected_chip);
    throw ToolError("INVALID: " + wrong_trust(bytes, user).value_or(tools::describe(image.status(), facts)));
  }
  // A device never reads past the signature sector, but a file that carries more was not made by a signer.
  if (bytes.size() > image->signed_size) {
    throw ToolError(fmt::format("INVALID: {} bytes after the signature sector (at 0x{:x})",
                                bytes.size() - image->signed_size, image->signed_size));
  }

  if (!user && !o.chip.empty()) {
    const ChipInfo* chip = chip_by_name(o.chip.c_str());
    const uint8_t version =
        bytes[image->signed_size - kSignatureSectorSize + image->block * sbv2::kBlockSize + 1];
    if (!chip_verifies_sbv2_block(*chip, version)) {
      throw ToolError(fmt::format("INVALID: {}; block {} is {}", host::sbv2_schemes_sentence(*chip),
                                  image->block, sbv2_block_scheme(version)));
    }
  }
  const AppDescriptor& desc = image->info.desc;
  nlohmann::json json = {{"valid", true},
                         {"scheme", user ? kSchemeUser : kSchemeSbv2},
                         {"project_name", desc.project_name},
                         {"version", desc.version},
                         {"secure_version", desc.secure_version},
                         {"chip", host::chip_name(image->info.chip_id)},
                         {"signed_size", image->signed_size},
                         {"signed_digest", tools::hex(image->signed_digest, sizeof image->signed_digest)}};
  const nlohmann::json signer = signer_of(*image, user, bytes);
  json.update(signer);
  const std::string who = user ? fmt::format("signed by a user-app key, certificate subject '{}'",
                                             signer["certificate_subject"].get<std::string>())
                               : fmt::format("signed by block {} (key digest {})", image->block,
                                             signer["key_digest"].get<std::string>());
  print_output(o.json,
               fmt::format("VALID: {} {} (secure_version {}), {}\n", desc.project_name, desc.version,
                           desc.secure_version, who),
               json.dump(2));
}

void add_verify(CLI::App& group) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = group.add_subcommand("verify",
                                       "Check a signed app image as a device would: image, signature sector, "
                                       "trust, anti-rollback (Secure Boot v2: one block signed by a trusted "
                                       "key is enough). Prints VALID or exits 1 with the reason");
  cmd->add_option("image", o->input, "the signed image")->required();
  tools::add_trust_options(*cmd, o->trust);
  cmd->add_option("--min-secure-version", o->min_secure_version,
                  "anti-rollback floor: refuse a lower secure_version");
  cmd->add_option("--chip", o->chip, "refuse an image built for another chip: " + host::chip_names());
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] { verify(*o); });
}

}  // namespace

void add_image_signing_commands(CLI::App& image_group) {
  image_group.description("App images: build, info, sign, verify, digest, attach-signature");
  add_sign(image_group);
  add_verify(image_group);
  add_image_external_signature_commands(image_group);
}

}  // namespace privota::cli
