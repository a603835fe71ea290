// The signature sector after an image, as `privota image info` shows it: the scheme and who signed. For each
// Secure Boot v2 block its scheme and the key digest a device must trust to accept it (what espsecure.py
// signature_info_v2 prints); for a user-app sector the certificate's subject and issuer. It describes
// without trusting anyone: whether a signature verifies is `image verify`'s question. Only the image digest
// a block or sector stores is compared with the image's, since a mismatch explains a refusal at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace privota::tools {

struct SignatureReport {
  std::string text;  // lines in image_info_text's layout
  nlohmann::json json;
};

// `bytes`: the whole file; `image_size`: the app image's size (from AppImageValidator).
SignatureReport signature_report(const std::vector<uint8_t>& bytes, uint32_t image_size);

}  // namespace privota::tools
