#include "image_builder.h"

#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "privota/byte_order.h"
#include "privota/host/mbedtls_digest.h"

namespace privota::tools {
namespace {

constexpr const char* kIdfVer = "privota-" PRIVOTA_VERSION;

// esptool writes these for every image: wp_pin 0xEE means "no write-protect pin"; DIO mode, 4 MB, 80 MHz.
constexpr uint8_t kWpPinDisabled = 0xEE;
constexpr uint8_t kSpiModeDio = 2;
constexpr uint8_t kSpiSize4MbFreq80M = 0x2F;

std::time_t build_clock() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"))
    return static_cast<std::time_t>(std::strtoll(epoch, nullptr, 10));
  return std::time(nullptr);
}

std::string put_field(uint8_t* field, size_t field_size, const std::string& value, const char* what) {
  // The descriptor's strings are NUL-terminated in ESP-IDF; a value that fills the field would lose it.
  if (value.size() >= field_size) {
    return fmt::format("{} '{}' is {} characters; the app descriptor holds at most {}", what, value,
                       value.size(), field_size - 1);
  }
  std::copy(value.begin(), value.end(), field);
  return {};
}

void append_le32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  store_le32(b, v);
  out.insert(out.end(), b, b + 4);
}

std::vector<uint8_t> header(const ImageSpec& spec, uint16_t max_rev, uint32_t entry, size_t segments) {
  std::vector<uint8_t> h(kImageHeaderSize, 0);
  h[0] = kImageMagic;
  h[1] = static_cast<uint8_t>(segments);
  h[2] = kSpiModeDio;
  h[3] = kSpiSize4MbFreq80M;
  store_le32(&h[4], entry);
  h[8] = kWpPinDisabled;
  store_le16(&h[12], static_cast<uint16_t>(spec.chip));
  h[14] = static_cast<uint8_t>(spec.min_chip_rev_full / 100);  // the legacy major-only field
  store_le16(&h[15], spec.min_chip_rev_full);
  store_le16(&h[17], max_rev);
  h[23] = 1;  // hash appended
  return h;
}

}  // namespace

std::string fill_app_descriptor(const ImageSpec& spec, const uint8_t (&elf_digest)[32], uint8_t* desc) {
  std::fill(desc, desc + kAppDescSize, 0);
  store_le32(&desc[0], kAppDescMagic);
  store_le32(&desc[4], spec.secure_version);
  const std::time_t now = build_clock();
  std::tm tm{};
  gmtime_r(&now, &tm);
  char time_text[16];
  char date_text[16];
  std::strftime(time_text, sizeof time_text, "%H:%M:%S", &tm);
  std::strftime(date_text, sizeof date_text, "%b %e %Y", &tm);
  for (const std::string& error : {
           put_field(&desc[16], 32, spec.version, "version"),
           put_field(&desc[48], 32, spec.project_name, "project name"),
           put_field(&desc[80], 16, spec.time.empty() ? time_text : spec.time, "time"),
           put_field(&desc[96], 16, spec.date.empty() ? date_text : spec.date, "date"),
           put_field(&desc[112], 32, spec.idf_ver.empty() ? kIdfVer : spec.idf_ver, "idf_ver"),
       }) {
    if (!error.empty()) return error;
  }
  if (spec.version.empty()) return "the version is empty";
  if (spec.project_name.empty()) return "the project name is empty";
  std::copy(std::begin(elf_digest), std::end(elf_digest), &desc[144]);
  return {};
}

std::vector<uint8_t> assemble_app_image(const ImageSpec& spec, uint16_t max_rev, uint32_t entry,
                                        const std::vector<ImageSegment>& segments) {
  std::vector<uint8_t> out = header(spec, max_rev, entry, segments.size());
  uint8_t checksum = kChecksumSeed;
  for (const ImageSegment& segment : segments) {
    std::vector<uint8_t> data = segment.data;
    data.resize((data.size() + 3) / 4 * 4, 0);  // segment lengths are multiples of 4
    append_le32(out, segment.load_addr);
    append_le32(out, static_cast<uint32_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    for (uint8_t b : data)
      checksum ^= b;
  }
  while (out.size() % 16 != 15)
    out.push_back(0);
  out.push_back(checksum);

  host::MbedSha256 sha;
  uint8_t digest[32];
  sha.update({out.data(), out.size()});
  sha.finish(digest);
  out.insert(out.end(), std::begin(digest), std::end(digest));
  return out;
}

BuiltImage build_app_image(const ImageSpec& spec) {
  const auto chip = chip_by_id(static_cast<uint16_t>(spec.chip));
  if (!chip) return {{}, "unknown chip"};
  if (spec.payload.empty()) return {{}, "the payload is empty"};

  // app_elf_sha256: ESP-IDF hashes the ELF; our ELF is the payload.
  host::MbedSha256 sha;
  uint8_t payload_digest[32];
  sha.update({spec.payload.data(), spec.payload.size()});
  sha.finish(payload_digest);
  std::vector<uint8_t> desc(kAppDescSize);
  if (std::string error = fill_app_descriptor(spec, payload_digest, desc.data()); !error.empty())
    return {{}, error};

  const uint32_t payload_offset =
      static_cast<uint32_t>(kImageHeaderSize + kSegmentHeaderSize + kAppDescSize + kSegmentHeaderSize);
  const uint32_t entry = kPayloadLoadBase + payload_offset;  // the start of the payload segment
  return {assemble_app_image(spec, spec.max_chip_rev_full.value_or(chip->max_chip_rev_full), entry,
                             {{kDescLoadAddr, desc}, {entry, spec.payload}}),
          {}};
}

}  // namespace privota::tools
