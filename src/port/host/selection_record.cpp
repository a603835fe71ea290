#include "privota/host/selection_record.h"

namespace privota::host {

std::string slot_name(AppLevel level, uint32_t slot) {
  return (level == AppLevel::kProtected ? "ota_" : "user_") + std::to_string(slot);
}

SelectionRecord selection_record(AppLevel level, const BootDecision& decision) {
  const AppDescriptor& desc = decision.image.info.desc;
  SelectionRecord record;
  record.message = std::string(level == AppLevel::kProtected ? "protected app " : "user app ") +
                   desc.project_name + " " + desc.version + " in " + slot_name(level, decision.slot) + ": " +
                   boot_outcome_name(decision.outcome);
  record.fields = {{"slot", decision.slot},
                   {"outcome", boot_outcome_name(decision.outcome)},
                   {"project", desc.project_name},
                   {"version", desc.version},
                   {"secure_version", desc.secure_version}};
  if (decision.rejected_slot >= 0) {
    const std::string rejected = slot_name(level, static_cast<uint32_t>(decision.rejected_slot));
    record.message += " (gave up on " + rejected + ": " + decision.rejected_reason.reason() + ")";
    record.fields["rejected_slot"] = decision.rejected_slot;
    record.fields["rejected_reason"] = decision.rejected_reason.reason();
  }
  return record;
}

}  // namespace privota::host
