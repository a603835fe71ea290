// Whom a command trusts, as the command line says it: Secure Boot v2 key digests / keys (protected app) or
// the user-app CA (user app). Shared by `image verify` and the `flash` engine commands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "privota/host/mbedtls_verifier.h"
#include "privota/signed_image.h"

namespace privota::tools {

struct TrustOptions {
  std::vector<std::string> key_digests;  // hex
  std::vector<std::string> keys;         // PEM files
  std::string ca;                        // PEM file or a `privota ca new` directory
};

// Adds --key-digest, --key and --ca (mutually exclusive groups) to a command.
void add_trust_options(CLI::App& command, TrustOptions& options);

// The loaded trust anchors; policy() points into this object, so keep it alive while the policy is used.
class Trust {
 public:
  // Throws ToolError when nothing or both kinds are given, or a file does not load.
  explicit Trust(const TrustOptions& options);
  bool user_app() const { return ca_.has_value(); }
  TrustPolicy policy();

 private:
  std::vector<KeyDigest> digests_;
  std::optional<host::MbedCertificateVerifier> ca_;
};

}  // namespace privota::tools
