// JobThread: how the host device runs an OTA job in the background — the core's OtaJob on a thread of its
// own, with its own libcurl transport and mbedTLS crypto. It is the core OtaService's JobRunner: the service
// keeps the rules (one job, who owns it, BUSY, reboot after activation), this class only runs what it is
// given, publishes progress, and wakes the main loop (an eventfd) when the job ends.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "privota/host/device_config.h"
#include "privota/host/event_log.h"
#include "privota/ota_service.h"
#include "privota/partition_table.h"
#include "trust.h"

namespace privota::protected_app {

struct JobEnd {
  Status outcome;
  JobProgress last;
};

class JobThread final : public JobRunner {
 public:
  struct Setup {
    Flash* flash = nullptr;  // thread-safe (LockedFlash)
    PartitionTable table;
    const host::DeviceConfig* config = nullptr;
    const UrlPolicy* url_policy = nullptr;  // for redirect targets
    Trust* trust = nullptr;
    host::EventLog* log = nullptr;
    int wake_fd = -1;  // an eventfd signalled when a job ends
    // Where in the image the running job's received bytes reach (written to flash or not yet), mirrored
    // lock-free for the simulated power cut, which logs what the next boot will have to fetch again.
    std::atomic<uint32_t>* position_probe = nullptr;
  };

  explicit JobThread(Setup setup) : s_(std::move(setup)) {}
  ~JobThread();  // stops a running job (its journal kept) and waits for it
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  Status start(const JobRequest& request) override;
  void stop(bool keep_journal) override;
  JobProgress progress() override;

  // The end of the job, once, after it happened (the main loop calls this when the eventfd fires).
  std::optional<JobEnd> take_end();
  // Waits for the job's thread (after stop(), before the device writes a selection or reboots).
  void join();

 private:
  class Observer;
  void run(JobRequest request);
  void publish(const JobProgress& progress);

  Setup s_;
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> close_journal_{false};
  std::mutex mutex_;
  JobProgress progress_;
  std::optional<JobEnd> end_;
};

}  // namespace privota::protected_app
