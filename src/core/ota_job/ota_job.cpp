// The job's life: start or resume, the retry loop, verification and activation. One transfer (request,
// redirects, response, body) is in ota_job_transfer.cpp.
#include "privota/ota_job.h"

#include <string.h>

#include "privota/image_head.h"

namespace privota {
namespace {

// OtaWriter binds to a level at construction; a context without one gets this empty level, on which
// every writer call fails (and start() refuses the context anyway).
AppSlots g_no_slots;

bool is_retryable(const Status& status) {
  switch (status.code()) {
    case Code::kTimeout:
    case Code::kNetwork:
    case Code::kTruncated:
    case Code::kTooSlow:  // another connection may be faster; the deadline bounds the retries
      return true;
    case Code::kHttpStatus:
      // 5xx, or a 206 that did not answer our Range (asked again for the whole file).
      return status.detail() >= 500 || status.detail() == 206;
    default:
      return false;
  }
}

}  // namespace

// RAM budget (issue 6): job + the caller's buffer within 8 KiB, TLS aside.
static_assert(sizeof(OtaJob) <= 3 * 1024, "OtaJob outgrew its RAM budget");

const char* job_state_name(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kConnecting:
      return "connecting";
    case JobState::kDownloading:
      return "downloading";
    case JobState::kVerifying:
      return "verifying";
    case JobState::kActivating:
      return "activating";
    case JobState::kRebooting:
      return "rebooting";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

OtaJob::OtaJob(const OtaJobContext& context)
    : c_(context), writer_(context.slots != nullptr ? *context.slots : g_no_slots, context.running_slot) {}

Status OtaJob::check_context() const {
  if (c_.slots == nullptr || c_.url_policy == nullptr || c_.sha256 == nullptr || c_.verifier == nullptr ||
      c_.transport == nullptr || c_.clock == nullptr || c_.observer == nullptr) {
    return Status::error(Code::kInvalidArgument, "OTA job context is missing an interface");
  }
  if (c_.slots->slot_count < 2 || c_.running_slot >= c_.slots->slot_count)
    return Status::error(Code::kInvalidArgument, "running slot is not one of the level's slots",
                         c_.running_slot);
  if (c_.signature_check == nullptr && c_.buffer.size() < kSignatureSectorSize)
    return Status::error(Code::kInvalidArgument,
                         "OTA job buffer is smaller than 4 KiB, the signature sector it checks in place",
                         static_cast<uint32_t>(c_.buffer.size()));
  if (c_.buffer.size() < kImageHeadSize)
    return Status::error(Code::kInvalidArgument, "OTA job buffer is smaller than an image head (288 B)",
                         static_cast<uint32_t>(c_.buffer.size()));
  return Status::ok();
}

Status OtaJob::start(Span<const char> url) {
  PRIVOTA_TRY(check_context());
  if (url.empty()) return Status::error(Code::kUrlMalformed, "empty URL");
  if (url.size() > kMaxLocationLength)
    return Status::error(Code::kUrlTooLong, "URL is longer than the job keeps",
                         static_cast<uint32_t>(url.size()));
  if (memchr(url.data(), '\0', url.size()) != nullptr)
    return Status::error(Code::kUrlBadCharacter, "URL contains a NUL");
  journal_ = JournalRecord();
  memcpy(journal_.url, url.data(), url.size());
  journal_.url_len = static_cast<uint16_t>(url.size());
  journal_open_ = false;
  resuming_ = false;
  progress_ = JobProgress();
  return Status::ok();
}

Status OtaJob::resume_from_journal() {
  PRIVOTA_TRY(check_context());
  PRIVOTA_ASSIGN_OR_RETURN(journal_, read_live_journal(*c_.slots));
  journal_index_ = journal_.index;
  journal_open_ = true;
  resuming_ = true;
  progress_ = JobProgress();
  return Status::ok();
}

Status OtaJob::run() {
  if (progress_.state != JobState::kQueued || journal_.url_len == 0)
    return Status::error(Code::kBadState, "run() needs a job from start() or resume_from_journal()");
  report();
  started_ms_ = c_.clock->now_ms();
  Status status = download();
  if (status.is_ok()) status = verify_and_activate();
  if (!status.is_ok()) return fail(status);
  return status;
}

// The retry loop: transfers until the image is in, a final error, or config.max_attempts transfers.
Status OtaJob::download() {
  if (resuming_) PRIVOTA_TRY(prepare_resume());
  const uint32_t attempts = c_.config.max_attempts == 0 ? 1 : c_.config.max_attempts;
  Status status;
  for (uint32_t attempt = 0; attempt < attempts; ++attempt) {
    if (image_size_ != 0 && resume_point() == image_size_) return Status::ok();  // all in flash already
    if (attempt > 0) PRIVOTA_TRY(back_off(attempt));
    status = transfer();
    if (status.is_ok() || !is_retryable(status)) break;
  }
  return status;
}

// After a reboot: the bytes the journal committed are in the passive slot. Check their head as a fresh
// download would, then let the first transfer ask for the rest.
Status OtaJob::prepare_resume() {
  resuming_ = false;
  const uint32_t from = journal_.committed_sectors * Flash::kSectorSize;
  // Nothing to keep (or the record cannot resume: no size or no validator): start over.
  if (from == 0) return restart_from_zero();
  FlashRegion& slot = c_.slots->slots[writer_.passive_slot()];
  PRIVOTA_TRY(slot.read(0, c_.buffer.first(kImageHeadSize)));
  PRIVOTA_ASSIGN_OR_RETURN(const ImageHead head, parse_image_head(c_.buffer.first(kImageHeadSize)));
  PRIVOTA_TRY(check_image_head(head, c_.policy, c_.running, c_.rejected));
  PRIVOTA_TRY(writer_.resume(journal_.total_size, from));
  image_size_ = journal_.total_size;
  progress_.bytes_total = image_size_;
  progress_.bytes_done = from;
  return Status::ok();
}

// Sleeps before retry number `retry` (1 = the second transfer), in slices that notice a cancel.
Status OtaJob::back_off(uint32_t retry) {
  uint32_t delay = c_.config.first_backoff_ms;
  for (uint32_t i = 1; i < retry && delay < c_.config.max_backoff_ms; ++i)
    delay = delay > UINT32_MAX / 2 ? UINT32_MAX : delay * 2;
  if (delay > c_.config.max_backoff_ms) delay = c_.config.max_backoff_ms;
  set_state(JobState::kConnecting);
  while (true) {
    if (c_.observer->cancel_requested()) return Status::error(Code::kCancelled, "cancelled by the user app");
    PRIVOTA_TRY(check_deadline());
    if (delay == 0) return Status::ok();
    const uint32_t slice = delay < 100 ? delay : 100;
    c_.clock->sleep_ms(slice);
    delay -= slice;
  }
}

Status OtaJob::check_deadline() const {
  const uint32_t deadline = c_.config.job_deadline_ms;
  if (deadline != 0 && c_.clock->now_ms() - started_ms_ >= deadline)
    return Status::error(Code::kJobDeadline, "the job ran longer than its deadline (job_deadline_ms)",
                         deadline);
  return Status::ok();
}

// After `n` body bytes arrived: the deadline, then the low-speed window (restarted by receive_body()).
Status OtaJob::check_pace(size_t n) {
  PRIVOTA_TRY(check_deadline());
  const uint32_t window = c_.config.low_speed_window_ms;
  if (c_.config.low_speed_bytes == 0 || window == 0) return Status::ok();
  window_bytes_ += static_cast<uint32_t>(n);
  const uint64_t now = c_.clock->now_ms();
  if (now - window_start_ms_ < window) return Status::ok();
  if (window_bytes_ < c_.config.low_speed_bytes)
    return Status::error(Code::kTooSlow, "the server sent less than low_speed_bytes in low_speed_window_ms",
                         window_bytes_);
  window_start_ms_ = now;
  window_bytes_ = 0;
  return Status::ok();
}

Status OtaJob::verify_and_activate() {
  set_state(JobState::kVerifying);
  TrustPolicy policy = c_.policy;
  InPlaceSignatureCheck in_place(*c_.sha256, *c_.verifier, c_.buffer);
  SignatureCheck& check = c_.signature_check != nullptr ? *c_.signature_check : in_place;
  SignedImage image;
  PRIVOTA_TRY(writer_.finish(policy, *c_.sha256, c_.buffer, check, image));
  PRIVOTA_TRY(check_expectation(image));
  // Every sector is in: a cut during activation resumes straight into verification.
  PRIVOTA_TRY(commit_durable_sectors());
  set_state(JobState::kActivating);
  PRIVOTA_TRY(writer_.activate());
  journal_open_ = false;  // the selection write left the record in the inactive sector
  set_state(JobState::kRebooting);
  return Status::ok();
}

Status OtaJob::check_expectation(const SignedImage& image) {
  const ImageExpectation* e = c_.expect;
  if (e == nullptr) return Status::ok();
  const char* version = image.info.desc.version;
  const uint32_t size = writer_.bytes_written();  // the whole file, with or without a Content-Length
  if (e->version[0] != '\0' && strncmp(e->version, version, sizeof e->version) != 0)
    return Status::error(Code::kInvalidArgument, "image version is not the one the job names");
  if (e->size != 0 && e->size != size)
    return Status::error(Code::kBadLength, "image size is not the one the job names", size);
  if (!e->have_sha256) return Status::ok();
  FlashRegion& slot = c_.slots->slots[writer_.passive_slot()];
  c_.sha256->begin();
  for (uint32_t at = 0; at < size;) {
    const uint32_t n = static_cast<uint32_t>(c_.buffer.first(size - at).size());
    PRIVOTA_TRY(slot.read(at, c_.buffer.first(n)));
    c_.sha256->update(c_.buffer.first(n));
    at += n;
  }
  uint8_t digest[Sha256::kDigestSize];
  c_.sha256->finish(digest);
  if (!digest_equal({digest, sizeof digest}, {e->sha256, sizeof e->sha256}))
    return Status::error(Code::kBadHash, "image SHA-256 is not the one the job names");
  return Status::ok();
}

Status OtaJob::fail(Status status) {
  writer_.abort();
  const bool suspended = status.code() == Code::kCancelled && c_.observer->keep_journal_on_cancel();
  if (journal_open_ && !suspended) (void)close_journal(*c_.slots, journal_index_);  // its error says more
  journal_open_ = false;
  progress_.error = status;
  set_state(status.code() == Code::kCancelled ? JobState::kCancelled : JobState::kFailed);
  return status;
}

// The bytes in the slot can no longer be continued: the next transfer asks for the whole file.
Status OtaJob::restart_from_zero() {
  writer_.abort();
  if (!journal_open_) return Status::ok();
  journal_open_ = false;
  return close_journal(*c_.slots, journal_index_);
}

Status OtaJob::commit_durable_sectors() {
  if (!journal_open_ || journal_.total_size == 0 || journal_.validator_len == 0) return Status::ok();
  const uint32_t sectors = writer_.durable_bytes() / Flash::kSectorSize;
  if (sectors <= journal_.committed_sectors) return Status::ok();
  PRIVOTA_TRY(commit_journal_sectors(*c_.slots, journal_index_, sectors));
  journal_.committed_sectors = sectors;
  return Status::ok();
}

void OtaJob::set_state(JobState state) {
  progress_.state = state;
  report();
}

void OtaJob::report() {
  c_.observer->on_progress(progress_);
}

}  // namespace privota
