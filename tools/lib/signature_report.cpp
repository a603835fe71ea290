#include "signature_report.h"

#include <algorithm>
#include <array>
#include <span>

#include <fmt/format.h>

#include "certificate_authority.h"
#include "image_report.h"
#include "privota/byte_order.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/secure_boot_v2.h"
#include "privota/signed_image.h"
#include "privota/user_app_signature.h"
#include "signature_kind.h"
#include "tool_error.h"

namespace privota::tools {
namespace {

using Digest = std::array<uint8_t, 32>;

// SHA-256 of the signed region as a device reads it: the file up to the 4 KiB boundary (0xFF past its end).
Digest padded_digest(const std::vector<uint8_t>& bytes, uint32_t image_size) {
  const size_t padded = signed_region_size(image_size);
  const size_t present = std::min(bytes.size(), padded);
  host::MbedSha256 sha;
  sha.begin();
  sha.update({bytes.data(), present});
  const std::vector<uint8_t> fill(padded - present, 0xFF);
  sha.update({fill.data(), fill.size()});
  uint8_t digest[32];
  sha.finish(digest);
  Digest out;
  std::copy(std::begin(digest), std::end(digest), out.begin());
  return out;
}

bool digest_matches(std::span<const uint8_t> stored, const Digest& digest) {
  return std::equal(digest.begin(), digest.end(), stored.begin());
}

const char* block_scheme(uint8_t version) {
  return version == sbv2::kVersionRsa ? "RSA-3072-PSS" : "ECDSA P-256";
}

bool all_ff(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0xFF; });
}

// Blocks from slot 0 until the first empty one, as espsecure reads them; a damaged block ends the list.
void report_blocks(std::span<const uint8_t> sector, const Digest& digest, SignatureReport& out) {
  nlohmann::json blocks = nlohmann::json::array();
  std::string lines;
  for (size_t i = 0; i < sbv2::kMaxBlocks; ++i) {
    const std::span<const uint8_t> block = sector.subspan(i * sbv2::kBlockSize, sbv2::kBlockSize);
    if (all_ff(block)) break;
    const Status status = sbv2::check_block({block.data(), block.size()});
    if (!status.is_ok()) {
      lines += fmt::format("  block {}:         damaged: {}\n", i, describe(status));
      blocks.push_back({{"block", i}, {"error", describe(status)}});
      break;
    }
    host::MbedSha256 sha;
    KeyDigest key;
    sbv2::key_digest({block.data(), block.size()}, sha, key);
    const std::string key_hex = hex(key.bytes, sizeof key.bytes);
    const bool matches = digest_matches(block.subspan(sbv2::kImageDigestOffset, 32), digest);
    lines += fmt::format("  block {}:         {}, key digest {}{}\n", i, block_scheme(block[1]), key_hex,
                         matches ? "" : " (made for another image: its digest differs)");
    blocks.push_back({{"block", i},
                      {"scheme", block_scheme(block[1])},
                      {"key_digest", key_hex},
                      {"image_digest_matches", matches}});
  }
  out.text += fmt::format("Signature:         Secure Boot v2, {} block{}\n", blocks.size(),
                          blocks.size() == 1 ? "" : "s");
  out.text += lines;
  out.json = {{"scheme", "secure-boot-v2"}, {"blocks", blocks}};
}

void report_user_sector(std::span<const uint8_t> sector, const Digest& digest, SignatureReport& out) {
  out.text += "Signature:         user-app certificate\n";
  out.json = {{"scheme", "user-cert"}};
  const Status status = user_sig::check_sector({sector.data(), sector.size()});
  if (!status.is_ok()) {
    out.text += fmt::format("  damaged:         {}\n", describe(status));
    out.json["error"] = describe(status);
    return;
  }
  const uint32_t cert_len = load_le32(sector.data() + user_sig::kCertLenOffset);
  const std::string pem(reinterpret_cast<const char*>(sector.data() + user_sig::kCertOffset), cert_len - 1);
  const bool matches = digest_matches(sector.subspan(user_sig::kImageDigestOffset, 32), digest);
  out.json["image_digest_matches"] = matches;
  try {
    const std::string subject = certificate_subject(pem);
    const std::string issuer = certificate_issuer(pem);
    out.text += fmt::format("  subject:         {}\n  issuer:          {}\n", subject, issuer);
    out.json["certificate_subject"] = subject;
    out.json["certificate_issuer"] = issuer;
  } catch (const ToolError&) {
    out.text += "  damaged:         the certificate does not parse as X.509\n";
    out.json["error"] = "the certificate does not parse as X.509";
  }
  if (!matches) out.text += "  image digest:    differs (the sector was made for another image)\n";
}

}  // namespace

SignatureReport signature_report(const std::vector<uint8_t>& bytes, uint32_t image_size) {
  SignatureReport out;
  const SignatureKind kind = signature_kind(bytes, image_size);
  const size_t start = signed_region_size(image_size);
  if (kind == SignatureKind::kUnsigned || kind == SignatureKind::kNotAnImage) {
    out.text = "Signature:         none (unsigned)\n";
    out.json = {{"scheme", "none"}};
    return out;
  }
  if (kind == SignatureKind::kUnknownSector || bytes.size() < start + kSignatureSectorSize) {
    out.text =
        fmt::format("Signature:         {} ({} of {} sector bytes present)\n",
                    kind == SignatureKind::kUnknownSector ? "unknown sector (no 0xE7 or 0xB7 magic)"
                                                          : signature_kind_name(kind),
                    std::min(bytes.size() - start, size_t{kSignatureSectorSize}), kSignatureSectorSize);
    out.json = {{"scheme", "unknown"}, {"error", "not a complete signature sector"}};
    return out;
  }
  const std::span<const uint8_t> sector(bytes.data() + start, kSignatureSectorSize);
  const Digest digest = padded_digest(bytes, image_size);
  if (kind == SignatureKind::kSecureBootV2) {
    report_blocks(sector, digest, out);
  } else {
    report_user_sector(sector, digest, out);
  }
  return out;
}

}  // namespace privota::tools
