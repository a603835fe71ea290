// One transfer of the OTA job: the request (a Range from the bytes already in flash, when the server's
// validator allows), the redirects, what the response status means, and the body into the writer.
#include <string.h>

#include "location.h"
#include "privota/image_head.h"
#include "privota/ota_job.h"

namespace privota {
namespace {

bool is_redirect(uint16_t status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// strlen that stops at `capacity`: a transport's field without its NUL is not read past its end.
size_t bounded_length(const char* text, size_t capacity) {
  size_t n = 0;
  while (n < capacity && text[n] != '\0')
    ++n;
  return n;
}

}  // namespace

Status OtaJob::transfer() {
  ++progress_.attempts;
  uint32_t from = resume_point();
  progress_.resumed_from = from;
  set_state(JobState::kConnecting);
  Status status = open_following_redirects(from);
  // A 206 for another range than the one asked: this server will not resume this file. Nothing failed
  // that a retry could mend, so start over from zero within this attempt instead of using one up.
  if (status.is_ok() && from > 0 && response_.status == 206 && !is_our_tail(from)) {
    c_.transport->close();
    status = restart_from_zero();
    from = 0;
    progress_.resumed_from = 0;
    if (status.is_ok()) status = open_following_redirects(from);
  }
  if (status.is_ok()) status = accept_response(from);
  if (status.is_ok()) status = receive_body();
  c_.transport->close();
  return status;
}

// Where the next transfer starts: the last sector boundary the writer holds for certain, when the server
// gave a validator and a size (so a tail can be asked for with If-Range and checked); else zero.
uint32_t OtaJob::resume_point() const {
  if (!journal_open_ || journal_.validator_len == 0 || journal_.total_size == 0) return 0;
  const uint32_t durable = writer_.durable_bytes();
  return durable / Flash::kSectorSize * Flash::kSectorSize;
}

Status OtaJob::open_following_redirects(uint32_t from) {
  memcpy(target_, journal_.url, journal_.url_len + 1u);
  target_len_ = journal_.url_len;
  progress_.redirects = 0;
  while (true) {
    HttpRequest request;
    request.url = Span<const char>(target_, target_len_);
    request.range_start = from;
    if (from > 0) request.if_range = Span<const char>(journal_.validator, journal_.validator_len);
    response_ = HttpResponse();
    PRIVOTA_TRY(c_.transport->open(request, response_));
    if (!is_redirect(response_.status)) return Status::ok();
    if (progress_.redirects >= c_.config.max_redirects)
      return Status::error(Code::kTooManyRedirects, "more redirects than the job follows",
                           progress_.redirects);
    if (response_.location_too_long)
      return Status::error(Code::kUrlTooLong, "redirect Location is longer than the job keeps");
    response_.location[kMaxLocationLength] = '\0';
    c_.transport->close();
    PRIVOTA_TRY(follow_location(target_, target_len_, response_.location, *c_.url_policy));
    ++progress_.redirects;
  }
}

Status OtaJob::accept_response(uint32_t from) {
  const uint16_t status = response_.status;
  body_received_ = 0;
  if (status == 200) return accept_whole_file();
  if (status == 206 && from > 0) return accept_tail(from);
  return Status::error(Code::kHttpStatus,
                       status >= 500 ? "server error" : "server answered with an unusable status", status);
}

// 200: the whole file. To a Range request it means the file changed (If-Range): start over from zero.
Status OtaJob::accept_whole_file() {
  PRIVOTA_TRY(restart_from_zero());
  image_size_ = response_.has_content_length ? response_.content_length : 0;
  const uint32_t slot_size = c_.slots->slots[writer_.passive_slot()].size();
  if (response_.has_content_length) {
    if (image_size_ > slot_size)
      return Status::error(Code::kLimitExceeded, "image is larger than the passive slot", image_size_);
    if (image_size_ == 0 || image_size_ % kSignatureSectorSize != 0)
      return Status::error(Code::kBadLength, "Content-Length is not a whole signed image", image_size_);
  }
  const char* validator = response_.etag[0] != '\0' ? response_.etag : response_.last_modified;
  const size_t validator_len = bounded_length(validator, kMaxValidatorLength + 1);
  journal_.validator_len = validator_len <= kMaxValidatorLength ? static_cast<uint16_t>(validator_len) : 0;
  memcpy(journal_.validator, validator, journal_.validator_len);
  journal_.validator[journal_.validator_len] = '\0';
  journal_.total_size = image_size_;
  journal_.committed_sectors = 0;
  head_pending_ = true;
  head_fill_ = 0;
  progress_.bytes_total = image_size_;
  progress_.bytes_done = 0;
  progress_.resumed_from = 0;  // a 200 to a Range request: this transfer starts at zero after all
  return Status::ok();
}

bool OtaJob::is_our_tail(uint32_t from) const {
  const HttpResponse& r = response_;
  const uint32_t total = journal_.total_size;
  return r.has_content_range && r.range_first == from && r.range_total == total &&
         r.range_last == total - 1 && (!r.has_content_length || r.content_length == total - from);
}

// 206: the tail we asked for, of the very file we hold the start of; anything else is not used.
Status OtaJob::accept_tail(uint32_t from) {
  const uint32_t total = journal_.total_size;
  if (!is_our_tail(from)) {
    PRIVOTA_TRY(restart_from_zero());
    return Status::error(Code::kHttpStatus, "Content-Range does not match the request", 206);
  }
  PRIVOTA_TRY(writer_.resume(total, from));
  image_size_ = total;
  head_pending_ = false;
  progress_.bytes_total = total;
  progress_.bytes_done = from;
  return Status::ok();
}

Status OtaJob::receive_body() {
  set_state(JobState::kDownloading);
  window_start_ms_ = c_.clock->now_ms();
  window_bytes_ = 0;
  const uint32_t announced = response_.has_content_length ? response_.content_length : UINT32_MAX;
  while (true) {
    if (c_.observer->cancel_requested()) return Status::error(Code::kCancelled, "cancelled by the user app");
    // The head collects at the start of the buffer, so nothing is written before it was checked. After it,
    // a read never crosses a sector boundary: a chunk's bytes are then either all in the sector being
    // written or committed with it, so a power cut can cost at most the one sector in progress.
    const ByteSpan into = head_pending_ ? c_.buffer.subspan(head_fill_) : c_.buffer.first(to_sector_end());
    PRIVOTA_ASSIGN_OR_RETURN(const size_t n, c_.transport->read(into));
    if (n == 0) break;
    if (n > into.size() || n > announced - body_received_)
      return Status::error(Code::kTrailingData, "more body than Content-Length", body_received_);
    body_received_ += static_cast<uint32_t>(n);
    progress_.bytes_received += static_cast<uint32_t>(n);
    report();  // received, not yet written: what a power cut while writing it would cost
    PRIVOTA_TRY(consume(n));
    report();
    PRIVOTA_TRY(check_pace(n));
  }
  if (response_.has_content_length && body_received_ < announced)
    return Status::error(Code::kTruncated, "the body ended before Content-Length", body_received_);
  // A body shorter than the head: begin_image() refuses it with the head check's reason.
  if (head_pending_) return begin_image();
  return Status::ok();
}

size_t OtaJob::to_sector_end() const {
  return Flash::kSectorSize - writer_.bytes_written() % Flash::kSectorSize;
}

// `n` new bytes are at the start of the buffer (or after the head collected so far).
Status OtaJob::consume(size_t n) {
  if (head_pending_) {
    head_fill_ += static_cast<uint32_t>(n);
    if (head_fill_ < kImageHeadSize) return Status::ok();
    return begin_image();
  }
  PRIVOTA_TRY(writer_.write(ConstByteSpan(c_.buffer.data(), n)));
  progress_.bytes_done = writer_.bytes_written();
  return commit_durable_sectors();
}

// The head is in: refuse early, or journal the job and start writing (the first erase comes after).
Status OtaJob::begin_image() {
  PRIVOTA_ASSIGN_OR_RETURN(const ImageHead head, parse_image_head(c_.buffer.first(head_fill_)));
  PRIVOTA_TRY(check_image_head(head, c_.policy, c_.running, c_.rejected));
  PRIVOTA_ASSIGN_OR_RETURN(journal_index_, open_journal(*c_.slots, c_.running_slot, journal_));
  journal_open_ = true;
  PRIVOTA_TRY(writer_.begin(image_size_));
  head_pending_ = false;
  const size_t n = head_fill_;
  head_fill_ = 0;
  return consume(n);
}

}  // namespace privota
