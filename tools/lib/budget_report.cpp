#include "budget_report.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "privota/supervisor.h"

namespace privota::tools {
namespace {

std::vector<std::string> given_up_on(const BudgetRecord& budget, const std::vector<std::string>& slot_names) {
  std::vector<std::string> names;
  for (size_t i = 0; i < slot_names.size() && i < 8; ++i) {
    if ((budget.rejected_slots & (1u << i)) != 0) names.push_back(slot_names[i]);
  }
  return names;
}

std::string digest_hex(const BudgetRecord& budget) {
  std::string hex;
  for (uint8_t b : budget.rejected_elf_sha256)
    hex += fmt::format("{:02x}", b);
  return hex;
}

// The device.json default: the flash does not hold the configured budget.
bool in_safe_state(const OtaDataView& view) {
  return view.failed_boots() >= kDefaultBootBudget;
}

}  // namespace

std::string budget_text(const OtaDataView& view, const std::vector<std::string>& slot_names, bool user) {
  const BudgetRecord budget = view.budget();
  std::string out;
  if (view.active_state() == OtaState::kPendingVerify)
    out += fmt::format("  trial boots used: {}\n", 1 + view.trial_marks_used());
  if (user) {
    out += fmt::format("  failed boots in a row: {}", view.failed_boots());
    if (view.failed_boots() > 0) out += fmt::format(" (last: {})", boot_failure_name(view.last_failure()));
    out += in_safe_state(view) ? fmt::format(
                                     ": SAFE STATE at the default boot budget {} (the user app is not "
                                     "started; user_app.boot_budget sets it)\n",
                                     kDefaultBootBudget)
                               : "\n";
  }
  const std::vector<std::string> rejected = given_up_on(budget, slot_names);
  if (!rejected.empty())
    out += fmt::format("  given up on (not booted again): {}\n", fmt::join(rejected, ", "));
  if (budget.have_rejected_image) {
    out += fmt::format("  refused image: version '{}', ELF SHA-256 {}...\n", budget.rejected_version,
                       digest_hex(budget));
  }
  return out;
}

nlohmann::json budget_json(const OtaDataView& view, const std::vector<std::string>& slot_names, bool user) {
  const BudgetRecord budget = view.budget();
  nlohmann::json j = {
      {"trial_boots_used", view.active_state() == OtaState::kPendingVerify ? 1 + view.trial_marks_used() : 0},
      {"given_up_on", given_up_on(budget, slot_names)}};
  if (user) {
    j["failed_boots"] = view.failed_boots();
    j["last_failure"] = boot_failure_name(view.last_failure());
    j["safe_state"] = in_safe_state(view);
  }
  j["refused_image"] = budget.have_rejected_image ? nlohmann::json{{"version", budget.rejected_version},
                                                                   {"elf_sha256_prefix", digest_hex(budget)}}
                                                  : nlohmann::json();
  return j;
}

}  // namespace privota::tools
