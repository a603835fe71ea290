// What the command line asked privota-sim for beyond running the device — a cut at flash write N, the
// owner's protected-app update — and whether it happened, the same for every machine (host, rv32): a normal
// halt where the request did not happen becomes its own exit code, with a warning that says why, so a
// script never takes "exit 0" for "updated" or "cut".
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "device_runner.h"
#include "log_view.h"

namespace privota::sim {

// Whether the owner's --protected-update happened: its job selected the new protected app (ota_done) and
// that app then passed its trial (protected_confirmed). Otherwise the last word on it says why not. Fed
// every event of the run (LogView::set_observer).
class ProtectedUpdateWatch {
 public:
  void see(const nlohmann::json& e);
  bool done() const { return done_; }
  std::string why() const { return why_.empty() ? "the protected app did not start the update" : why_; }

 private:
  bool selected_ = false;
  bool done_ = false;
  std::string why_;
};

// `result` as the run ended, turned into kNoPowerCut / kUpdateNotDone when a halt left a request undone.
SimExit check_requests(const RunOptions& options, SimExit result, const ProtectedUpdateWatch& update,
                       uint64_t writes, LogView& log);

}  // namespace privota::sim
