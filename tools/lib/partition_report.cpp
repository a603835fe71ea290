#include "partition_report.h"

#include <fmt/format.h>

#include "partition_names.h"
#include "units.h"

namespace privota::tools {

std::string partition_table_text(const PartitionTable& table) {
  std::string out = fmt::format("{:<17} {:<5} {:<9} {:>9} {:>9} {:>7}  {}\n", "Name", "Type", "SubType",
                                "Offset", "Size", "", "Flags");
  for (size_t i = 0; i < table.count(); ++i) {
    const Partition& p = table[i];
    out += fmt::format("{:<17} {:<5} {:<9} {:>#9x} {:>#9x} {:>7}  {}\n", p.name, partition_type_name(p.type),
                       partition_subtype_name(p.type, p.subtype), p.offset, p.size, format_byte_count(p.size),
                       format_flags(p.flags));
  }
  // Partitions without flags would leave trailing blanks.
  for (size_t at; (at = out.find(" \n")) != std::string::npos;)
    out.erase(at, 1);
  out += fmt::format("MD5: {}\n", table.has_md5() ? "present, valid" : "absent");
  return out;
}

nlohmann::json partition_table_json(const PartitionTable& table) {
  nlohmann::json partitions = nlohmann::json::array();
  for (size_t i = 0; i < table.count(); ++i) {
    const Partition& p = table[i];
    partitions.push_back({{"name", p.name},
                          {"type", partition_type_name(p.type)},
                          {"subtype", partition_subtype_name(p.type, p.subtype)},
                          {"type_id", p.type},
                          {"subtype_id", p.subtype},
                          {"offset", p.offset},
                          {"size", p.size},
                          {"flags", p.flags}});
  }
  return {{"partitions", partitions}, {"md5", table.has_md5()}};
}

}  // namespace privota::tools
