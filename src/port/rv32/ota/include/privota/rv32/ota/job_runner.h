// Rv32JobRunner: OtaService's JobRunner (privota/ota_service.h) on the bare-metal device. The core's OtaJob
// runs on a Coroutine with its own stack; the firmware's main loop calls step() each round, which runs the
// job until it next waits: for the network (the network's wait hook), during a backoff (the clock's sleep),
// or after each flash operation (YieldingFlash). So the main loop keeps serving while the image downloads,
// with no thread and no timer. The job writes through the rv32 flash driver; its journal and verification
// are the core's.
//
// The job's stack holds the job and the network below it, not the signature check: the job hashes the image
// through its 1 KiB chunk buffer, then hands the signature sector (4 KiB, the certificate and RSA-3072) to
// the main loop, which runs it at the end of that step on its own stack in the firmware's scratch, as it
// checks the user app at boot (JobPlatform::check_scratch).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/ota_job.h"
#include "privota/ota_service.h"
#include "privota/partition_table.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/ota/coroutine.h"
#include "privota/transport.h"

namespace privota::rv32::ota {

// What the platform gives the job; all of it outlives the runner.
struct JobPlatform {
  Flash* flash = nullptr;
  const PartitionTable* table = nullptr;
  // The level's policy: scheme, CA or keys, chip (the floor is read from the level's otadata at start).
  TrustPolicy user_policy;
  TrustPolicy protected_policy;
  const UrlPolicy* url_policy = nullptr;
  Transport* transport = nullptr;
  OtaJobConfig config;
  // The main loop's signature-sector scratch (at least kSignatureSectorSize bytes): the firmware's own, which
  // it also verifies the user app in; the runner uses it only inside step(), after the job gave way.
  ByteSpan check_scratch;
};

// The result of the last job, once it ended (take_end()).
struct JobEnd {
  Status outcome;
  JobProgress last;
};

class Rv32JobRunner final : public JobRunner {
 public:
  // `stack`: the job's own stack (16-byte aligned; the TLS handshake runs on it too, so 8 KiB or more).
  Rv32JobRunner(const JobPlatform& platform, ByteSpan stack);
  Rv32JobRunner(const Rv32JobRunner&) = delete;
  Rv32JobRunner& operator=(const Rv32JobRunner&) = delete;

  Status start(const JobRequest& request) override;
  void stop(bool keep_journal) override;
  JobProgress progress() override { return progress_; }

  // The main loop's turn for the job: runs it until it next waits (nothing when no job runs).
  void step();
  // Once the job ended: its outcome and last progress, handed out once (for OtaService::on_job_finished).
  bool take_end(JobEnd& end);
  bool running() const { return coroutine_.started() && !coroutine_.finished(); }
  // Gives the CPU back to the main loop when called inside the job; nothing otherwise.
  void yield() { coroutine_.yield(); }

  // Measurements: the job's stack peak (since the start or the last repaint_stack(), between steps).
  uint32_t stack_peak() const { return coroutine_.stack_peak(); }
  void repaint_stack() { coroutine_.repaint(); }
  // Signature checks the main loop ran for jobs (one per verified image).
  uint32_t checks_on_main_loop() const { return checks_on_main_loop_; }

  // The job's download chunk: the TLS layer fills it, the writer pages it into flash.
  static constexpr size_t kChunkSize = 1024;

 private:
  class Observer;
  class MainLoopCheck;
  // A signature check the job asked for and waits on (the job's own stack holds what it points at).
  struct PendingCheck {
    Flash* region = nullptr;
    const TrustPolicy* policy = nullptr;
    SignedImage* image = nullptr;
    Status result;
  };
  static void job_entry(void* self);
  void run_job();
  void prepare(OtaJobContext& c, AppSlots& slots);
  void run_pending_check();

  JobPlatform platform_;
  ByteSpan stack_;
  Coroutine coroutine_;
  JobRequest request_;
  JobProgress progress_;
  JobEnd end_;
  bool end_ready_ = false;
  bool cancel_ = false;
  bool close_journal_ = false;
  // The image this level rolled back (refused again), when there is one.
  AppDescriptor rejected_;
  PendingCheck pending_;
  uint32_t checks_on_main_loop_ = 0;
  // Download chunks and the verification's reads.
  alignas(8) uint8_t buffer_[kChunkSize];
  MbedSha256 sha256_;
  MbedSignatureVerifier verifier_;
};

}  // namespace privota::rv32::ota
