// Signs app images, byte for byte as Espressif's tools lay them out (privota/signed_image.h):
//   - Secure Boot v2 (protected app), as `espsecure.py sign_data --version 2` writes it: one 0xE7 block per
//     key (RSA-3072-PSS or ECDSA P-256), in the order given, the rest of the sector 0xFF;
//     `--append_signatures` adds blocks after those an image already carries (at most 3 in all);
//   - ESP-PrivSep user-app certificate (user app), as esp-privilege-separation's
//     `esp_ps_secure_boot_util.py sign_user_app` writes it: one 0xB7 sector with an RSA-3072-PSS signature
//     and the user-app certificate (UAC).
// Only the signature and CRC fields differ from those tools' output: PSS salts are random, and ECDSA here
// takes its nonce from the key and digest (RFC 6979), so an ECDSA block is the same every time.
//
// A signature made elsewhere (an HSM, a signing service) is attached the same way: the signer signs the
// 32-byte signed_digest() and attach_*() builds the very block or sector sign_*() would have built around it.
//
// Input is an app image (`privota image build`); it may end with 0xFF padding up to its 4 KiB boundary, and
// for appending it carries its signature sector. Output = image, 0xFF to 4 KiB, signature sector. Every
// signature is verified again with the core's checks before it is returned.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "key_file.h"

namespace privota::tools {

// What a signature covers: SHA-256 of the image padded with 0xFF to its 4 KiB boundary. The same for both
// schemes, and for an image that is already signed (the sector after it is not covered). Throws ToolError.
std::array<uint8_t, 32> signed_digest(const std::vector<uint8_t>& image);

// `keys`: 1 to 3 private keys, each RSA-3072 or ECDSA P-256. The image must be unsigned. Throws ToolError.
std::vector<uint8_t> sign_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys);
// Adds one block per key after the blocks a Secure Boot v2 signed image carries (3 at most in all); the
// existing blocks must be intact and made for this image. Throws ToolError.
std::vector<uint8_t> append_secure_boot_v2(const std::vector<uint8_t>& image, std::span<const Key> keys);

// `user_key`: the RSA-3072 private key the UAC was issued for; `uac_pem`: the UAC as PEM text, stored in the
// sector exactly as given (with a NUL; at most 3664 bytes with it). Throws ToolError.
std::vector<uint8_t> sign_user_app(const std::vector<uint8_t>& image, const Key& user_key,
                                   const std::string& uac_pem);

// A signature of signed_digest(image) made elsewhere, as signers write it: RSA-3072-PSS (SHA-256,
// MGF1-SHA-256, salt 32) as 384 bytes big-endian; ECDSA P-256 as DER (SEQUENCE of r, s: `openssl pkeyutl`) or
// 64 bytes r | s big-endian (PKCS#11). `public_key` says which key made it. With `append`, the image is
// signed already and the block goes after its blocks (as append_secure_boot_v2). Throws ToolError, also when
// the signature does not verify.
std::vector<uint8_t> attach_secure_boot_v2(const std::vector<uint8_t>& image, const Key& public_key,
                                           const std::vector<uint8_t>& signature, bool append);
// The same for the user-app scheme: RSA-3072-PSS, 384 bytes big-endian, by the key in `uac_pem`.
std::vector<uint8_t> attach_user_app(const std::vector<uint8_t>& image, const std::string& uac_pem,
                                     const std::vector<uint8_t>& signature);

}  // namespace privota::tools
