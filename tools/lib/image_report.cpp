#include "image_report.h"

#include <fmt/format.h>

#include "privota/host/chip_names.h"

namespace privota::tools {
namespace {

std::string chip_rev(uint16_t full) {
  return fmt::format("v{}.{}", full / 100, full % 100);
}

}  // namespace

std::string hex(const uint8_t* bytes, size_t size) {
  std::string out;
  for (size_t i = 0; i < size; ++i)
    out += fmt::format("{:02x}", bytes[i]);
  return out;
}

std::string image_info_text(const AppImageInfo& info) {
  std::string out;
  out += fmt::format("Image size:        {} bytes\n", info.image_size);
  out += fmt::format("Chip:              {} (chip rev {} .. {})\n", host::chip_name(info.chip_id),
                     chip_rev(info.min_chip_rev_full), chip_rev(info.max_chip_rev_full));
  out += fmt::format("Entry address:     0x{:08x}\n", info.entry_addr);
  out += fmt::format("Segments:          {}\n", info.segment_count);
  for (uint8_t i = 0; i < info.segment_count; ++i) {
    const SegmentInfo& s = info.segments[i];
    out += fmt::format("  {}: load 0x{:08x}  len 0x{:06x}  data at file offset 0x{:06x}\n", i, s.load_addr,
                       s.data_len, s.data_offset);
  }
  out += fmt::format("Checksum:          0x{:02x} (valid)\n", info.checksum);
  out += fmt::format("SHA-256:           {} ({})\n", hex(info.sha256, sizeof info.sha256),
                     info.hash_appended ? "appended, valid" : "not appended");
  const AppDescriptor& d = info.desc;
  out += fmt::format("Project:           {}\n", d.project_name);
  out += fmt::format("Version:           {}\n", d.version);
  out += fmt::format("Secure version:    {}\n", d.secure_version);
  out += fmt::format("Built:             {} {}\n", d.date, d.time);
  out += fmt::format("Built with:        {}\n", d.idf_ver);
  out += fmt::format("Payload SHA-256:   {}\n", hex(d.app_elf_sha256, sizeof d.app_elf_sha256));
  return out;
}

nlohmann::json image_info_json(const AppImageInfo& info) {
  nlohmann::json segments = nlohmann::json::array();
  for (uint8_t i = 0; i < info.segment_count; ++i) {
    const SegmentInfo& s = info.segments[i];
    segments.push_back(
        {{"load_addr", s.load_addr}, {"data_len", s.data_len}, {"file_offset", s.data_offset}});
  }
  const AppDescriptor& d = info.desc;
  return {
      {"image_size", info.image_size},
      {"chip", host::chip_name(info.chip_id)},
      {"chip_id", info.chip_id},
      {"min_chip_rev_full", info.min_chip_rev_full},
      {"max_chip_rev_full", info.max_chip_rev_full},
      {"entry_addr", info.entry_addr},
      {"segments", segments},
      {"checksum", info.checksum},
      {"sha256", hex(info.sha256, sizeof info.sha256)},
      {"hash_appended", info.hash_appended},
      {"project_name", d.project_name},
      {"version", d.version},
      {"secure_version", d.secure_version},
      {"date", d.date},
      {"time", d.time},
      {"idf_ver", d.idf_ver},
      {"app_elf_sha256", hex(d.app_elf_sha256, sizeof d.app_elf_sha256)},
  };
}

std::string image_summary(const AppImageInfo& info) {
  return fmt::format("{} {} (secure_version {}, {}, {} bytes)", info.desc.project_name, info.desc.version,
                     info.desc.secure_version, host::chip_name(info.chip_id), info.image_size);
}

}  // namespace privota::tools
