// Signs app images, byte for byte as Espressif's tools lay them out (privota/signed_image.h):
//   - Secure Boot v2 (protected app), as `espsecure.py sign_data --version 2` writes it: one 0xE7 block per
//     key (RSA-3072-PSS or ECDSA P-256), in the order given, the rest of the sector 0xFF;
//   - ESP-PrivSep user-app certificate (user app), as esp-privilege-separation's
//     `esp_ps_secure_boot_util.py sign_user_app` writes it: one 0xB7 sector with an RSA-3072-PSS signature
//     and the user-app certificate (UAC).
// Only the signature and CRC fields differ from those tools' output: PSS salts and ECDSA nonces are random.
//
// Input is an unsigned app image (`privota image build`); it may end with 0xFF padding up to its 4 KiB
// boundary but must not carry a signature sector already. Output = image, 0xFF to 4 KiB, signature sector.
// Every new signature is verified again with the core's checks before it is returned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "key_file.h"

namespace privota::tools {

// `keys`: 1 to 3 private keys, each RSA-3072 or ECDSA P-256. Throws ToolError.
std::vector<uint8_t> sign_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys);

// `user_key`: the RSA-3072 private key the UAC was issued for; `uac_pem`: the UAC as PEM text, stored in the
// sector exactly as given (with a NUL; at most 3664 bytes with it). Throws ToolError.
std::vector<uint8_t> sign_user_app(const std::vector<uint8_t>& image, const Key& user_key,
                                   const std::string& uac_pem);

}  // namespace privota::tools
