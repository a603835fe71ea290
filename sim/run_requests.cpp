#include "run_requests.h"

namespace privota::sim {

void ProtectedUpdateWatch::see(const nlohmann::json& e) {
  const std::string event = e.value("event", "");
  const bool protected_level = e.value("app_level", "") == "protected";
  if (event == "ota_done" && protected_level) {
    selected_ = true;
    why_ = "the new protected app was selected but never confirmed itself";
  } else if (event == "protected_confirmed" && selected_) {
    done_ = true;
  } else if ((event == "ota_refused" || event == "ota_failed") && protected_level) {
    why_ = e.value("msg", "");
  } else if (event == "boot" && selected_ && !done_ && e.value("outcome", "") == "rolled_back") {
    why_ = "the new protected app was rolled back: " + e.value("msg", "");
  }
}

SimExit check_requests(const RunOptions& options, SimExit result, const ProtectedUpdateWatch& update,
                       uint64_t writes, LogView& log) {
  if (options.power_cut_at != 0 && result != SimExit::kPowerCut) {
    say(log, "warn", "no_power_cut",
        "--power-cut-at " + std::to_string(options.power_cut_at) + ": no power cut happened; this run made " +
            std::to_string(writes) + " flash writes",
        {{"power_cut_at", options.power_cut_at}, {"writes", writes}});
    if (result == SimExit::kHalted) result = SimExit::kNoPowerCut;
  }
  if (!options.protected_update_url.empty() && result != SimExit::kPowerCut && !update.done()) {
    say(log, "warn", "protected_update_not_done",
        "--protected-update did not happen, the protected app was not updated: " + update.why());
    if (result == SimExit::kHalted) result = SimExit::kUpdateNotDone;
  }
  return result;
}

}  // namespace privota::sim
