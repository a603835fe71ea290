// Why nothing boots: every app slot of a level as the boot decision sees it — what the slot holds and why
// it is refused (its verification error in words: an untrusted key, a certificate not from this CA, a hash
// that does not match, another chip, the anti-rollback floor; or the state its select partition gives it).
// The bootloader and the protected app log this when select_boot_slot() finds no bootable app, so that
// "no bootable app" always comes with a reason per slot. Host only: the core's decision stays as small as
// the rv32 bootloader needs it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "privota/app_slots.h"
#include "privota/signed_image.h"

namespace privota::host {

struct SlotVerdict {
  uint32_t slot = 0;
  std::string partition;  // "ota_0", "user_1"
  std::string found;      // "erased", "image 1.0.0 (secure_version 1, esp32c3)", "no app image (...)"
  bool bootable = false;  // it verifies and nothing in its select partition refuses it
  Status refusal;         // why not (ok when bootable)
  std::string reason;     // the refusal in words ("verifies" when bootable)
};

// Every slot of `slots`, verified by `policy` as SlotVerifier::verify() does (the level's floor, the chip's
// Secure Boot v2 schemes) and judged by the select partition as select_boot_slot() judges it.
std::vector<SlotVerdict> slot_verdicts(AppLevel level, AppSlots& slots, const TrustPolicy& policy);

// "ota_0 holds image 1.0.0 (...): refused: <reason>": one slot as a log line.
std::string verdict_text(const SlotVerdict& verdict);
// {"slot", "partition", "found", "bootable", "reason", "error"}: one slot as event fields.
nlohmann::json verdict_json(const SlotVerdict& verdict);

// The log record of a failed boot decision: one "slot_refused" record per slot, then "no bootable app"
// with every slot's verdict ("no user app to run: user_0 holds ...: refused: ...; user_1 is erased").
struct NoBootRecord {
  struct Line {
    std::string message;
    nlohmann::json fields;
  };
  std::vector<Line> slots;
  std::string message;
  nlohmann::json fields;  // error (the decision's code) and slots (every verdict_json)
};
NoBootRecord no_boot_record(AppLevel level, AppSlots& slots, const TrustPolicy& policy,
                            const Status& decision);

}  // namespace privota::host
