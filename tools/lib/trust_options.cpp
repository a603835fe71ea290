#include "trust_options.h"

#include <filesystem>

#include <fmt/format.h>

#include "certificate_authority.h"
#include "file_io.h"
#include "key_file.h"
#include "privota/secure_boot_v2.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

KeyDigest digest_from_hex(const std::string& text) {
  const std::vector<uint8_t> bytes = from_hex(text, "--key-digest");
  if (bytes.size() != sizeof(KeyDigest::bytes)) {
    throw ToolError(fmt::format("--key-digest '{}' is not 32 bytes (64 hex digits)", text));
  }
  KeyDigest digest;
  std::copy(bytes.begin(), bytes.end(), digest.bytes);
  return digest;
}

host::MbedCertificateVerifier load_ca(const std::string& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path)
                                         ? std::filesystem::path(path) / kCaCertFile
                                         : std::filesystem::path(path);
  Result<host::MbedCertificateVerifier> ca = host::MbedCertificateVerifier::from_pem(read_text_file(file));
  check(ca.status(), fmt::format("--ca '{}'", file.string()));
  return std::move(ca.value());
}

}  // namespace

void add_trust_options(CLI::App& command, TrustOptions& options) {
  CLI::Option* digest =
      command
          .add_option("--key-digest", options.key_digests,
                      "Secure Boot v2: a trusted key digest (hex, from `privota key digest`)")
          ->allow_extra_args(false);
  CLI::Option* key =
      command.add_option("--key", options.keys, "Secure Boot v2: a trusted key (PEM, public or private)")
          ->allow_extra_args(false);
  CLI::Option* ca =
      command.add_option("--ca", options.ca, "user-cert: the user-app CA certificate (or CA directory)");
  ca->excludes(digest)->excludes(key);
}

Trust::Trust(const TrustOptions& options) {
  const bool sbv2 = !options.key_digests.empty() || !options.keys.empty();
  if (sbv2 == !options.ca.empty()) {
    throw ToolError("say whom to trust: --key-digest/--key (Secure Boot v2) or --ca (user-app certificate)");
  }
  for (const std::string& text : options.key_digests)
    digests_.push_back(digest_from_hex(text));
  for (const std::string& path : options.keys) {
    const auto bytes = Key::load(path).sbv2_key_digest();
    KeyDigest& digest = digests_.emplace_back();
    std::copy(bytes.begin(), bytes.end(), digest.bytes);
  }
  if (digests_.size() > sbv2::kMaxBlocks) {
    throw ToolError("at most 3 trusted keys: a device has 3 Secure Boot v2 key digest slots");
  }
  if (!options.ca.empty()) ca_.emplace(load_ca(options.ca));
}

TrustPolicy Trust::policy() {
  TrustPolicy policy;
  policy.scheme = ca_ ? SignatureScheme::kUserAppCertificate : SignatureScheme::kSecureBootV2;
  policy.trusted_keys = {digests_.data(), digests_.size()};
  policy.user_ca = ca_ ? &*ca_ : nullptr;
  return policy;
}

}  // namespace privota::tools
