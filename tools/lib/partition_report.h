// A partition table as an aligned text table for people and as JSON for programs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "privota/partition_table.h"

namespace privota::tools {

std::string partition_table_text(const PartitionTable& table);
nlohmann::json partition_table_json(const PartitionTable& table);

}  // namespace privota::tools
