// Which app to boot, and the trial/rollback bookkeeping around it. The same decision serves both levels:
// the bootloader runs it over otadata + ota_N for the protected app, the protected app over uotadata +
// user_N for the user app. Pure logic over Flash, so it is tested without processes.
//
//   active entry state     image verifies?   what happens
//   --------------------   ---------------   -------------------------------------------------------------
//   none, legacy record    -                 adopt ESP-PrivSep's record (legacy_uotadata.h), then as below
//   none (erased/corrupt)  first slot that   boot it; nothing is written (a fresh device, or both select
//                          verifies          sectors lost: never halt while an app verifies)
//   NEW                    yes               write PENDING_VERIFY, boot it on trial
//   PENDING_VERIFY         yes               a trial boot that never reported (a power cut, a reset): one
//                                            trial-boot mark is programmed and the trial goes on, until
//                                            trial_boots boots are used up: then roll back
//   INVALID / ABORTED      -                 marked bad while running: roll back, and remember the image
//                                            (version + ELF SHA-256 prefix) as refused
//   VALID / UNDEFINED      yes               boot it
//   any                    no                roll back (the image rotted or was never good)
//   roll back                                select the other slot that verifies, is not below the
//                                            anti-rollback floor and was not given up on before, as VALID
//                                            (it was the running, valid app when the update began); the
//                                            failed slot is marked rejected; none -> no bootable app
//
// Every write goes through write_ota_selection(), i.e. to the inactive sector only.
#pragma once

#include <stdint.h>

#include "privota/app_slots.h"
#include "privota/ota_data.h"
#include "privota/result.h"
#include "privota/signed_image.h"

namespace privota {

enum class BootOutcome : uint8_t {
  kNormal,      // the selected app, already confirmed
  kTrial,       // a new app, first boot (now PENDING_VERIFY): it must call mark_valid() this run
  kRolledBack,  // the selected app failed or was not confirmed; the previous one was selected
  kFallback,    // nothing was selected (or it was unusable); the first app that verifies is booted
};

const char* boot_outcome_name(BootOutcome outcome);

struct BootDecision {
  BootOutcome outcome = BootOutcome::kNormal;
  uint32_t slot = 0;        // boot this slot
  SignedImage image;        // what it holds, verified
  uint32_t trial_boot = 0;  // kTrial: which boot of the trial this is (1 = the first)
  int rejected_slot = -1;   // the slot given up on (rollback), if any
  Status rejected_reason;   // why: not confirmed, marked invalid, or its verification error
};

constexpr uint32_t kDefaultTrialBoots = 3;

struct BootContext {
  AppSlots* slots = nullptr;
  TrustPolicy policy;  // scheme and trust; min_secure_version is taken from the select partition
  Sha256* sha256 = nullptr;
  SignatureVerifier* verifier = nullptr;
  ByteSpan scratch;  // >= kSignatureSectorSize
  // Boots a trial may use before it is rolled back when it never reports (1..kTrialMarks + 1).
  uint32_t trial_boots = kDefaultTrialBoots;
};

// Decides what to boot and records trial starts and rollbacks. Fails with kNotFound ("no bootable app")
// when no slot verifies; other errors are flash failures.
Result<BootDecision> select_boot_slot(BootContext& context);

// Whether `running_slot` is already the confirmed selection with a floor of at least `secure_version`: then
// mark_app_valid() writes nothing.
bool app_is_confirmed(const OtaDataView& view, uint32_t slot_count, uint32_t running_slot,
                      uint32_t secure_version);

// The running app confirms itself: its entry becomes VALID, the anti-rollback floor rises to its
// secure_version, the failure streak ends and its slot is trusted again. Nothing is written when it is
// already so (no flash wear for repeated calls; an app already valid does not end a failure streak by
// asking again), nor when another slot is selected as NEW (a job chose a new image: nothing to confirm).
Status mark_app_valid(AppSlots& slots, uint32_t running_slot, uint32_t secure_version);

// The running app gives up on itself: its entry becomes INVALID; the next boot rolls back.
Status mark_app_invalid(AppSlots& slots, uint32_t running_slot);

}  // namespace privota
