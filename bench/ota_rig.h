// What the OTA benchmarks share: a simulated device's flash (a temp 4 MiB FileFlash with the default
// partition table, slot 0 running and valid), the trust its protected app configures, and one OTA job run
// over any Transport, as the protected app's OTA service runs it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "privota/app_slots.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/ota_job.h"
#include "privota/partition_table.h"

namespace privota::bench {

// How the device trusts images of one level: user apps by certificate from a CA, protected apps by key
// digest.
struct Trust {
  AppLevel level = AppLevel::kUser;
  std::string user_ca_pem;  // kUser
  KeyDigest key_digest;     // kProtected

  static Trust user(const std::string& ca_pem_path);
  static Trust protected_app(const std::string& key_digest_hex);
};

// A fresh device flash: partition table, the level's selection with slot 0 valid. A file (FileFlash, what the
// simulator runs on) or, with an empty path, memory (MemoryFlash: no system call per flash operation).
class DeviceFlash {
 public:
  DeviceFlash(const std::filesystem::path& path, AppLevel level);
  // After a power cut: the same file reopened, as the next boot sees it.
  void reopen();
  // The level's slots over `flash` (the file itself, or a decorator around it).
  AppSlots slots_over(Flash& flash) const;
  Flash& flash() { return *flash_; }

 private:
  std::filesystem::path path_;
  AppLevel level_;
  PartitionTable table_;
  std::unique_ptr<host::FileFlash> file_;
  std::unique_ptr<host::MemoryFlash> memory_;
  Flash* flash_ = nullptr;
};

struct JobOutcome {
  Status status;
  JobProgress progress;
  double seconds = 0;  // start (or resume) to the end of run()
  // Of those: until the image was in flash (kVerifying), verification (to kActivating), and the rest.
  double download_seconds = 0;
  double verify_seconds = 0;
};

// Called around OtaJob::run() (after the job and its context exist): where the RAM benchmark measures.
struct RunHooks {
  virtual void before_run() {}
  virtual void after_run(const OtaJob&) {}
  // On every change of the job's state, from inside run().
  virtual void on_state(JobState) {}

 protected:
  ~RunHooks() = default;
};

// One job from `url` (or from the journal when `resume`) with a 4 KiB buffer: slot 0 runs, slot 1 is written.
// The running app's version is not judged (none given), the floor is 0.
JobOutcome run_job(AppSlots& slots, const Trust& trust, Transport& transport, const std::string& url,
                   bool resume, RunHooks* hooks = nullptr);

// A 4 KiB buffer and the job object's size: the job's own RAM apart from its stack.
constexpr size_t kJobBufferBytes = 4096;

std::string slurp(const std::string& path);

}  // namespace privota::bench
