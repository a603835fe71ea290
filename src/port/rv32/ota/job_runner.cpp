#include "privota/rv32/ota/job_runner.h"

#include <string.h>

#include "privota/ota_data.h"
#include "privota/rv32/net/network.h"

namespace privota::rv32::ota {
namespace {

// The runner whose job runs now (one at a time): the network's wait hook has no argument.
Rv32JobRunner* current = nullptr;

void yield_current() {
  if (current != nullptr) current->yield();
}

// The device's flash as the job sees it: every operation gives the main loop a turn afterwards, so erasing
// a slot or reading it back for verification never holds the CPU for more than one call.
class YieldingFlash final : public Flash {
 public:
  explicit YieldingFlash(Flash& flash) : flash_(flash) {}
  uint32_t size() const override { return flash_.size(); }
  Status read(uint32_t addr, ByteSpan out) override { return after(flash_.read(addr, out)); }
  Status program(uint32_t addr, ConstByteSpan data) override { return after(flash_.program(addr, data)); }
  Status erase(uint32_t addr, uint32_t len) override { return after(flash_.erase(addr, len)); }

 private:
  static Status after(Status status) {
    yield_current();
    return status;
  }
  Flash& flash_;
};

// The CLINT's milliseconds; a backoff waits in the main loop's turns, not in place.
class YieldingClock final : public Clock {
 public:
  uint64_t now_ms() override { return net::now_ms(); }
  void sleep_ms(uint32_t ms) override {
    const uint32_t until = net::now_ms() + ms;
    while (static_cast<int32_t>(until - net::now_ms()) > 0)
      net::network_wait();
  }
};

}  // namespace

// Publishes progress to the runner and answers its stop questions.
class Rv32JobRunner::Observer final : public JobObserver {
 public:
  explicit Observer(Rv32JobRunner& runner) : runner_(runner) {}
  void on_progress(const JobProgress& progress) override { runner_.progress_ = progress; }
  bool cancel_requested() override { return runner_.cancel_; }
  bool keep_journal_on_cancel() override { return !runner_.close_journal_; }

 private:
  Rv32JobRunner& runner_;
};

// The job's SignatureCheck: parks the request and gives way; the step that resumed the job runs the check
// on the main loop's stack before it returns (run_pending_check), and the next step resumes the job with
// the result.
class Rv32JobRunner::MainLoopCheck final : public SignatureCheck {
 public:
  explicit MainLoopCheck(Rv32JobRunner& runner) : runner_(runner) {}
  Status check(Flash& region, const TrustPolicy& policy, SignedImage& image) override {
    runner_.pending_ = PendingCheck{&region, &policy, &image, Status::ok()};
    runner_.yield();
    return runner_.pending_.result;
  }

 private:
  Rv32JobRunner& runner_;
};

Rv32JobRunner::Rv32JobRunner(const JobPlatform& platform, ByteSpan stack)
    : platform_(platform), stack_(stack) {}

Status Rv32JobRunner::start(const JobRequest& request) {
  if (running()) return Status::error(Code::kBusy, "an OTA job is already running");
  if (platform_.flash == nullptr || platform_.table == nullptr || platform_.transport == nullptr)
    return Status::error(Code::kInvalidArgument, "the OTA job runner lacks its flash, table or transport");
  if (platform_.check_scratch.size() < kSignatureSectorSize)
    return Status::error(Code::kInvalidArgument, "the OTA job runner lacks a 4 KiB signature check scratch");
  request_ = request;
  progress_ = JobProgress{};
  end_ready_ = false;
  cancel_ = false;
  close_journal_ = false;
  coroutine_.start(stack_, &Rv32JobRunner::job_entry, this);
  return Status::ok();
}

void Rv32JobRunner::stop(bool keep_journal) {
  // Closing wins: once the owner cancelled, a reboot that follows does not bring the job back.
  if (!keep_journal) close_journal_ = true;
  cancel_ = true;
}

void Rv32JobRunner::step() {
  if (!running()) return;
  current = this;
  net::set_network_wait_hook(&yield_current);
  coroutine_.resume();
  net::set_network_wait_hook(nullptr);
  current = nullptr;
  if (pending_.region != nullptr) run_pending_check();
}

// On the main loop's stack, with no job current: the region's reads do not yield.
void Rv32JobRunner::run_pending_check() {
  pending_.result = check_signed_image(*pending_.region, *pending_.policy, sha256_, verifier_,
                                       platform_.check_scratch, *pending_.image);
  pending_.region = nullptr;
  ++checks_on_main_loop_;
}

bool Rv32JobRunner::take_end(JobEnd& end) {
  if (!end_ready_) return false;
  end = end_;
  end_ready_ = false;
  return true;
}

void Rv32JobRunner::job_entry(void* self) {
  static_cast<Rv32JobRunner*>(self)->run_job();
}

void Rv32JobRunner::prepare(OtaJobContext& c, AppSlots& slots) {
  c.policy = request_.level == AppLevel::kUser ? platform_.user_policy : platform_.protected_policy;
  set_job_request(c, request_, slots, rejected_);
  c.url_policy = platform_.url_policy;
  c.sha256 = &sha256_;
  c.verifier = &verifier_;
  c.transport = platform_.transport;
  c.buffer = {buffer_, sizeof buffer_};
  c.config = platform_.config;
}

void Rv32JobRunner::run_job() {
  YieldingFlash flash(*platform_.flash);
  YieldingClock clock;
  Observer observer(*this);
  Status outcome;
  JobProgress last;
  Result<AppSlots> slots = AppSlots::from_table(flash, *platform_.table, request_.level);
  if (!slots.is_ok()) {
    outcome = slots.status();
  } else {
    OtaJobContext c;
    prepare(c, slots.value());
    c.clock = &clock;
    c.observer = &observer;
    MainLoopCheck check(*this);
    c.signature_check = &check;
    // The job object lives on the job's own stack: it exists only while the job runs.
    OtaJob job(c);
    outcome =
        request_.url[0] == '\0' ? job.resume_from_journal() : job.start({request_.url, strlen(request_.url)});
    if (outcome.is_ok()) outcome = job.run();
    last = job.progress();
  }
  if (!outcome.is_ok() && last.state != JobState::kFailed && last.state != JobState::kCancelled) {
    last.state = outcome.code() == Code::kCancelled ? JobState::kCancelled : JobState::kFailed;
    last.error = outcome;
  }
  progress_ = last;
  end_ = JobEnd{outcome, last};
  end_ready_ = true;
}

}  // namespace privota::rv32::ota
