// What a boot decision selected, as one event-log record: the bootloader's "boot" (protected app) and the
// protected app's "user_selected" (user app) say the same things with the same fields.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "privota/app_slots.h"
#include "privota/boot_select.h"

namespace privota::host {

struct SelectionRecord {
  // "user app hello 2.0.0 in user_1: rolled_back (gave up on user_0: not confirmed before this boot)"
  std::string message;
  // slot, outcome, project, version, secure_version; rejected_slot and rejected_reason after a rollback.
  nlohmann::json fields;
};

// "ota_1" (protected app) or "user_1" (user app): the partition names of the default table.
std::string slot_name(AppLevel level, uint32_t slot);

SelectionRecord selection_record(AppLevel level, const BootDecision& decision);

}  // namespace privota::host
