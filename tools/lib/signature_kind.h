// Which signature an image file carries, judged only by the sector after the image padded to 4 KiB: the
// words the tools use when an image is checked against the wrong trust, or written into the wrong slot.
#pragma once

#include <cstdint>
#include <vector>

namespace privota::tools {

// kUnsigned: the file ends with the image (or its padding); kUnknownSector: a sector follows with neither
// magic.
enum class SignatureKind { kNotAnImage, kUnsigned, kSecureBootV2, kUserAppCertificate, kUnknownSector };

// "unsigned", "Secure Boot v2", "user-app certificate", "not an app image", "unknown signature".
const char* signature_kind_name(SignatureKind kind);
// With the image's size known (from AppImageValidator).
SignatureKind signature_kind(const std::vector<uint8_t>& bytes, uint32_t image_size);
// Finds the image's size itself; kNotAnImage when the bytes do not start with a readable app image.
SignatureKind signature_kind(const std::vector<uint8_t>& bytes);

}  // namespace privota::tools
