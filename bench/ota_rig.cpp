#include "ota_rig.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <variant>

#include "key_file.h"
#include "partition_csv.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/memory_flash.h"
#include "privota/host/system_clock.h"
#include "privota/ota_data.h"

namespace privota::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Notes when the job entered verification and activation: the phases of the pipeline.
class PhaseObserver final : public JobObserver {
 public:
  explicit PhaseObserver(RunHooks* hooks) : hooks_(hooks) {}
  void on_progress(const JobProgress& progress) override {
    if (progress.state == last_) return;
    last_ = progress.state;
    if (hooks_ != nullptr) hooks_->on_state(progress.state);
    if (progress.state == JobState::kVerifying) verifying = Clock::now();
    if (progress.state == JobState::kActivating) activating = Clock::now();
  }
  bool cancel_requested() override { return false; }

  Clock::time_point verifying{};
  Clock::time_point activating{};

 private:
  JobState last_ = JobState::kQueued;
  RunHooks* hooks_;
};

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Loopback only: the benchmark's server is nginx on 127.0.0.1.
const char* const kHosts[] = {"127.0.0.1"};

}  // namespace

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Trust Trust::user(const std::string& ca_pem_path) {
  Trust t;
  t.level = AppLevel::kUser;
  t.user_ca_pem = slurp(ca_pem_path);
  return t;
}

Trust Trust::protected_app(const std::string& key_digest_hex) {
  Trust t;
  t.level = AppLevel::kProtected;
  const std::vector<uint8_t> digest = tools::from_hex(key_digest_hex, "key digest");
  if (digest.size() != sizeof t.key_digest.bytes) throw std::runtime_error("key digest is not 32 bytes");
  std::copy(digest.begin(), digest.end(), t.key_digest.bytes);
  return t;
}

DeviceFlash::DeviceFlash(const std::filesystem::path& path, AppLevel level) : path_(path), level_(level) {
  const auto parsed = tools::parse_partition_csv(slurp(PRIVOTA_SOURCE_DIR "/examples/device/partitions.csv"));
  table_ = std::get<PartitionTable>(parsed);
  constexpr uint32_t kFlashSize = 4 * 1024 * 1024;
  if (path.empty()) {
    memory_ = std::make_unique<host::MemoryFlash>(kFlashSize);
    flash_ = memory_.get();
  } else {
    file_ = std::make_unique<host::FileFlash>(std::move(host::FileFlash::create(path, kFlashSize).value()));
    flash_ = file_.get();
  }
  const std::vector<uint8_t> bytes = tools::to_partition_binary(table_);
  if (!flash_->program(kPartitionTableOffset, {bytes.data(), bytes.size()}).is_ok())
    throw std::runtime_error("cannot write the partition table");
  AppSlots slots = slots_over(*flash_);
  if (!write_ota_selection(slots.select, slots.slot_count, 0, OtaState::kValid).is_ok())
    throw std::runtime_error("cannot write the selection");
}

void DeviceFlash::reopen() {
  if (path_.empty()) return;  // memory keeps what the cut left
  file_.reset();
  file_ = std::make_unique<host::FileFlash>(std::move(host::FileFlash::open(path_).value()));
  flash_ = file_.get();
}

AppSlots DeviceFlash::slots_over(Flash& flash) const {
  Result<AppSlots> slots = AppSlots::from_table(flash, table_, level_);
  if (!slots.is_ok()) throw std::runtime_error("partition table has no slots for the level");
  return *slots;
}

JobOutcome run_job(AppSlots& slots, const Trust& trust, Transport& transport, const std::string& url,
                   bool resume, RunHooks* hooks) {
  std::optional<host::MbedCertificateVerifier> ca;
  TrustPolicy policy;
  if (trust.level == AppLevel::kUser) {
    ca.emplace(std::move(host::MbedCertificateVerifier::from_pem(trust.user_ca_pem).value()));
    policy.scheme = SignatureScheme::kUserAppCertificate;
    policy.user_ca = &*ca;
  } else {
    policy.scheme = SignatureScheme::kSecureBootV2;
    policy.trusted_keys = {&trust.key_digest, 1};
  }
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  host::SystemClock clock;
  PhaseObserver observer(hooks);
  UrlPolicy url_policy;
  url_policy.allowed_hosts = kHosts;
  std::vector<uint8_t> buffer(kJobBufferBytes);

  OtaJobContext c;
  c.slots = &slots;
  c.running_slot = 0;
  c.policy = policy;
  c.url_policy = &url_policy;
  c.sha256 = &sha;
  c.verifier = &verifier;
  c.transport = &transport;
  c.clock = &clock;
  c.observer = &observer;
  c.buffer = {buffer.data(), buffer.size()};
  c.config.first_backoff_ms = 10;

  JobOutcome out;
  const Clock::time_point t0 = Clock::now();
  {
    OtaJob job(c);
    out.status = resume ? job.resume_from_journal() : job.start({url.data(), url.size()});
    if (hooks != nullptr) hooks->before_run();
    if (out.status.is_ok()) out.status = job.run();
    if (hooks != nullptr) hooks->after_run(job);
    out.progress = job.progress();
  }
  const Clock::time_point t1 = Clock::now();
  out.seconds = seconds_between(t0, t1);
  if (observer.verifying != Clock::time_point{}) {
    out.download_seconds = seconds_between(t0, observer.verifying);
    if (observer.activating != Clock::time_point{})
      out.verify_seconds = seconds_between(observer.verifying, observer.activating);
  }
  return out;
}

}  // namespace privota::bench
