// OtaService: the protected app's background OTA jobs. ota_start checks the URL against the policy and
// returns at once; the job (core/ota_job) runs on its own thread with its own transport and crypto, and
// publishes its progress for ota_status. One job at a time, for either level: a second start answers kBusy
// with the running job's id. A job that reached REBOOTING wakes the main loop, which reboots the device.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/host/device_config.h"
#include "privota/host/event_log.h"
#include "privota/ota_job.h"
#include "privota/partition_table.h"
#include "privota/url_policy.h"
#include "trust.h"

namespace privota::protected_app {

struct JobStatus {
  uint32_t id = 0;
  AppLevel level = AppLevel::kUser;
  JobProgress progress;
  bool finished = false;
};

class OtaService {
 public:
  struct Setup {
    Flash* flash = nullptr;  // thread-safe (LockedFlash)
    PartitionTable table;
    const host::DeviceConfig* config = nullptr;
    Trust* trust = nullptr;
    host::EventLog* log = nullptr;
    int wake_fd = -1;  // an eventfd the service signals when a job ends
    // Where in the image the running job's received bytes reach (written to flash or not yet), mirrored
    // lock-free for whoever must read it from a signal-like context: the simulated power cut logs what it
    // interrupted, i.e. what the next boot will have to fetch again. May be null.
    std::atomic<uint32_t>* position_probe = nullptr;
  };

  explicit OtaService(Setup setup);
  ~OtaService();  // cancels a running job and waits for it
  OtaService(const OtaService&) = delete;
  OtaService& operator=(const OtaService&) = delete;

  // Checks `url` against the device's policy and starts a job for `level`, whose running app is in
  // `running_slot` with descriptor `running` (nullptr: none). kBusy (detail: the running job's id) when a
  // job runs.
  Result<uint32_t> start(AppLevel level, const std::string& url, uint32_t running_slot,
                         const AppDescriptor* running);
  // Continues the job the level's journal holds, if any (kNotFound: none).
  Result<uint32_t> resume(AppLevel level, uint32_t running_slot, const AppDescriptor* running);

  Result<JobStatus> status(uint32_t id);
  Status cancel(uint32_t id);
  bool running();
  // True once a job has selected its image: the device must reboot into it.
  bool reboot_requested() const { return reboot_.load(); }
  // Cancels a running job and waits for its thread (before the device reboots or halts).
  void stop();

 private:
  class Observer;
  struct Request {
    AppLevel level;
    std::string url;  // empty: resume from the journal
    uint32_t running_slot;
    std::optional<AppDescriptor> running;
  };

  Result<uint32_t> launch(Request request);
  void run(Request request, uint32_t id);
  Status check_policy(const std::string& url) const;

  Setup s_;
  std::vector<const char*> hosts_;  // into s_.config: what url_policy_ points at
  UrlPolicy url_policy_;
  std::mutex mutex_;
  JobStatus status_;  // the current or last job
  bool have_job_ = false;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> reboot_{false};
  uint32_t next_id_ = 1;
  std::thread thread_;
};

}  // namespace privota::protected_app
