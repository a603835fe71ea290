// SyscallService: the protected app's answer to every system call of the user app it runs. A decoded
// request frame in, the answer frame out; every rule about who may call what, and every error answer, is
// here, the same on every platform. What only the platform can do (verify another slot with its crypto,
// print a log line) it asks of a SyscallPlatform.
//
//   call                       rule
//   ------------------------   ---------------------------------------------------------------------------
//   ota_start(url)             refused on trial (kBadState: its job's journal would not survive the
//                              confirmation write); otherwise an OtaService job of the user level
//   ota_status/cancel(id)      only the user level's jobs (the owner's protected-app job is kNotFound)
//   ota_mark_valid             VALID + anti-rollback floor, nothing written when already so; once a job
//                              selected a new image, confirmed without a write (that write would undo the
//                              selection); kBusy only while a user-level job keeps its journal in the
//                              selection partition the confirmation would write
//   ota_mark_invalid_and_rbt   the user level's job is cancelled, then the supervisor decides (its table)
//   app_info(slot)             the running slot from memory; the other slot verified once, then
//                              remembered until an OTA job may have written it
//   log(level, text)           passed to the platform within the app's LogBudget; over it dropped and
//                              counted (answered ok: a log line is never worth failing the app for)
//   restart                    the supervisor decides (a restart counts toward the crash-loop limit)
//   fleet_offer / fleet_answer the device's FleetOffer decides (fleet_offer.h); kNotFound on a device that
//                              is in no fleet
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/fleet_offer.h"
#include "privota/log_budget.h"
#include "privota/ota_service.h"
#include "privota/result.h"
#include "privota/supervisor.h"
#include "privota/syscall.h"

namespace privota {

// The user app this boot runs.
struct RunningUserApp {
  AppSlots* slots = nullptr;  // uotadata + user_N
  uint32_t slot = 0;
  AppDescriptor desc;
};

class SyscallPlatform {
 public:
  // Verifies the image in user slot `slot` against the level's trust and anti-rollback floor.
  virtual Result<AppDescriptor> verify_user_slot(uint32_t slot) = 0;
  // One log line of the user app at `level` (0..syscall::kMaxLogLevel), as it sent it.
  virtual void user_log(uint32_t level, const char* text) = 0;
  // Lines of the log call dropped over the app's log budget, told once the app is within it again (and
  // when the app ends: SyscallService::log_budget()).
  virtual void user_log_dropped(const char* source, uint32_t lines, uint64_t bytes) = 0;

 protected:
  ~SyscallPlatform() = default;
};

// What a call did that the platform's log should tell (the answer frame says the rest).
enum class SyscallNotice : uint8_t {
  kNone,
  kOtaAccepted,  // ota_start: a job (its id in the answer)
  kOtaRefused,   // ota_start: refused (SyscallOutcome::status says why)
  kConfirmed,    // the app confirmed itself and this changed the selection
  kGaveUp,       // the app marked itself invalid
  kMalformed,    // the message did not decode (SyscallOutcome::status says why); answered with the refusal
};

struct SyscallOutcome {
  SupervisorAction action;  // what the platform carries out after sending the answer
  SyscallNotice notice = SyscallNotice::kNone;
  Status status;
};

class SyscallService {
 public:
  SyscallService(const RunningUserApp& app, Supervisor& supervisor, OtaService& ota,
                 SyscallPlatform& platform, const LogBudgetLimits& log_limits = LogBudgetLimits{})
      : app_(app), supervisor_(supervisor), ota_(ota), platform_(platform), log_budget_(log_limits) {}

  // One message as received (any size, any bytes) in, the answer frame out (`answer`: kFrameSize bytes).
  // A message that does not decode is answered with its refusal alone (nothing of it can be trusted, not
  // even its id) and counted; it never ends the conversation.
  SyscallOutcome serve(ConstByteSpan message, ByteSpan answer, uint64_t now_ms);
  // Fills `response` (its call, id and response flag already set) for a decoded `request`.
  SyscallOutcome handle(const syscall::Frame& request, syscall::Frame& response, uint64_t now_ms);
  // The fleet jobs offered to this user app (nullptr: the device is in no fleet).
  void set_fleet_offer(FleetOffer* offer) { fleet_offer_ = offer; }
  // Messages refused as malformed since this app was started.
  uint32_t malformed() const { return malformed_; }
  LogBudget& log_budget() { return log_budget_; }

 private:
  SyscallOutcome ota_start(const syscall::Frame& request, syscall::Frame& response);
  void ota_status(const syscall::Frame& request, syscall::Frame& response);
  SyscallOutcome mark_valid(syscall::Frame& response, uint64_t now_ms);
  SyscallOutcome mark_invalid(uint64_t now_ms);
  void app_info(const syscall::Frame& request, syscall::Frame& response);
  void log(const syscall::Frame& request, uint64_t now_ms);
  void fleet_offer(syscall::Frame& response);
  void fleet_answer(const syscall::Frame& request, syscall::Frame& response);
  Result<AppDescriptor> other_slot(uint32_t slot);
  uint32_t slot_state(uint32_t slot);

  RunningUserApp app_;
  Supervisor& supervisor_;
  OtaService& ota_;
  SyscallPlatform& platform_;
  // app_info's verdict on another slot, kept while no OTA job can have written it since.
  struct Verdict {
    bool known = false;
    uint32_t slot = 0;
    uint32_t job_id = 0;  // the job that was current when it was taken (0: none)
    Result<AppDescriptor> image = Status::error(Code::kNotFound, "not verified");
  };
  Verdict verdict_;
  uint32_t malformed_ = 0;
  LogBudget log_budget_;
  FleetOffer* fleet_offer_ = nullptr;
};

}  // namespace privota
