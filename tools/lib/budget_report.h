// What a select partition's budget record says (docs/formats.md, "budget record"), for `privota flash show`:
// the trial boots used, the failed boots in a row (and whether they put the device in the safe state), the
// slots given up on and the image the device refuses to install again.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "privota/ota_data.h"

namespace privota::tools {

// `slot_names`: the slots the partition selects among; `user`: uotadata (only the user app's failures lead
// to the safe state).
std::string budget_text(const OtaDataView& view, const std::vector<std::string>& slot_names, bool user);
nlohmann::json budget_json(const OtaDataView& view, const std::vector<std::string>& slot_names, bool user);

}  // namespace privota::tools
