// OtaJob: one user-app update from a URL, as the protected app runs it in the background.
//
//   QUEUED -> CONNECTING -> DOWNLOADING -> VERIFYING -> ACTIVATING -> REBOOTING
//                 ^   (retry: back off, resume)  |
//                 +------------------------------+        or FAILED(reason), CANCELLED
//
// - Refuses early, before anything is erased: a Content-Length larger than the passive slot or not a whole
//   signed image (kLimitExceeded, kBadLength); from the first 288 bytes (image header, first segment header,
//   app descriptor): another chip (kWrongChip), secure_version below the anti-rollback floor (kRollback), a
//   version not newer than the running app's (kNotNewer, see app_version.h), the very image this level just
//   rolled back (kRollback).
// - Streams into OtaWriter (passive slot only), then finish() verifies the slot and activate() selects it.
// - Redirects: followed up to config.max_redirects (kTooManyRedirects); every target must pass the URL
// policy.
// - Retries: a broken, stalled or refused transfer, or a 5xx, is tried again up to config.max_attempts in
//   all, with doubling backoff; a retry continues from the bytes already in flash (see resume). 4xx, TLS and
//   verification failures are final.
// - Resume: the journal (ota_journal.h) records the URL, the validator and the committed sectors. A retry,
//   a reboot or a power cut continues with "Range: bytes=N-" and "If-Range: <validator>" from the last
//   committed 4 KiB sector, so at most one sector (plus what was in flight) is downloaded twice. A 200
//   instead of a matching 206 means the file changed: the job starts over from zero. So does a 206 for
//   another range than asked, within the same attempt (asking again from zero at once).
// - Low-speed limit and deadline (config): a transfer slower than low_speed_bytes per low_speed_window_ms
//   fails with kTooSlow (retried); the job fails with kJobDeadline (final) once it has run job_deadline_ms.
// - Cancel: polled between chunks and during backoff.
// - Expectation (optional): the verified image must carry the requester's version, size and SHA-256
//   (kInvalidArgument, kBadLength, kBadHash), else nothing is selected.
// The running app's slot and selection are never touched; a failed or cancelled job leaves the device as it
// was (its passive slot half written, which nothing selects).
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/digest.h"
#include "privota/ota_journal.h"
#include "privota/ota_writer.h"
#include "privota/result.h"
#include "privota/signature_verifier.h"
#include "privota/signed_image.h"
#include "privota/transport.h"
#include "privota/url_policy.h"

namespace privota {

// The numbers are ABI: they are PRIVOTA_OTA_* of privota/user.h.
enum class JobState : uint8_t {
  kQueued = 0,
  kConnecting = 1,
  kDownloading = 2,
  kVerifying = 3,
  kActivating = 4,
  kRebooting = 5,
  kFailed = 6,
  kCancelled = 7,
};

const char* job_state_name(JobState state);

struct JobProgress {
  JobState state = JobState::kQueued;
  uint32_t bytes_done = 0;      // bytes of the image in the passive slot
  uint32_t bytes_total = 0;     // the image size, once known
  Status error;                 // why the job FAILED or was CANCELLED
  uint32_t attempts = 0;        // transfers started (the first and every retry)
  uint32_t resumed_from = 0;    // where the last transfer started (0, or a Range start)
  uint32_t bytes_received = 0;  // body bytes received in all transfers (re-downloads included)
  uint32_t redirects = 0;       // redirects followed in the last attempt
};

// The protected app's side: where progress goes and whether the user app asked to cancel.
class JobObserver {
 public:
  // After every state change and every chunk written.
  virtual void on_progress(const JobProgress& progress) = 0;
  virtual bool cancel_requested() = 0;
  // Asked when a cancel stops the job: true keeps its journal live, so the next boot resumes it (the device
  // is rebooting); false closes it (the job's owner cancelled it).
  virtual bool keep_journal_on_cancel() { return false; }

 protected:
  ~JobObserver() = default;
};

struct OtaJobConfig {
  uint32_t max_attempts = 4;        // transfers in all before FAILED
  uint32_t first_backoff_ms = 250;  // before the second attempt; doubles each time
  uint32_t max_backoff_ms = 4000;
  uint32_t max_redirects = 3;
  // Low-speed limit: a transfer that receives fewer than low_speed_bytes in any low_speed_window_ms fails
  // with kTooSlow (retried like a timeout). A drip of a byte a second stays under every stall timeout and
  // would hold the device's only job slot for days. 0 in either: no limit.
  uint32_t low_speed_bytes = 4096;
  uint32_t low_speed_window_ms = 30000;
  // The whole job (every attempt and backoff, from run() in this power-on) within this: kJobDeadline,
  // final. Checked after every read and during backoff, so it can be late by one read (the port's stall
  // timeout at most). 0: none.
  uint32_t job_deadline_ms = 30 * 60 * 1000;
};

// What the job's requester says the image must be (a fleet job document's version, size and SHA-256,
// docs/fleet.md). Checked once the image is in flash and verified, before it is selected: a mismatch fails
// the job and selects nothing.
struct ImageExpectation {
  char version[32] = {};  // esp_app_desc_t.version; empty: any
  uint32_t size = 0;      // the image file's exact size; 0: any
  bool have_sha256 = false;
  uint8_t sha256[32] = {};  // of the whole image file
};

struct OtaJobContext {
  AppSlots* slots = nullptr;  // the user level: uotadata + user_0/user_1
  uint32_t running_slot = 0;
  // The running user app's descriptor: an update must be newer. nullptr when none runs (anything goes).
  const AppDescriptor* running = nullptr;
  // The image this level last rolled back (its trial failed), still in the passive slot: the same image
  // (version and ELF hash) is refused with kRollback. nullptr when there is none.
  const AppDescriptor* rejected = nullptr;
  // User-app certificate scheme, CA, expected chip; min_secure_version = the uotadata floor.
  TrustPolicy policy;
  const UrlPolicy* url_policy = nullptr;  // for redirect targets
  Sha256* sha256 = nullptr;
  SignatureVerifier* verifier = nullptr;
  Transport* transport = nullptr;
  Clock* clock = nullptr;
  JobObserver* observer = nullptr;
  // Download chunks, then the verification's reads. Without a signature_check the job checks the
  // signature in place, in this buffer: then at least kSignatureSectorSize bytes; with one, at least
  // kImageHeadSize (the head collects in it before anything is written).
  ByteSpan buffer;
  // Where the image's signature is checked (privota/signed_image.h); nullptr: in place.
  SignatureCheck* signature_check = nullptr;
  OtaJobConfig config;
  const ImageExpectation* expect = nullptr;  // nullptr: no expectation
};

class OtaJob {
 public:
  explicit OtaJob(const OtaJobContext& context);

  // A new job for `url` (already accepted by the URL policy, at most kMaxLocationLength bytes; copied).
  Status start(Span<const char> url);
  // Takes over the job the journal says was running (after a reboot or power cut): kNotFound when none.
  Status resume_from_journal();
  // Runs the job to its end. Ok: the image is verified and selected as NEW (state kRebooting; the caller
  // reboots). Otherwise the state is kFailed or kCancelled, the status says why, and the journal record is
  // closed.
  Status run();

  const JobProgress& progress() const { return progress_; }
  // The URL being fetched (NUL-terminated).
  const char* url() const { return journal_.url; }

 private:
  Status check_context() const;
  Status download();
  Status prepare_resume();
  Status back_off(uint32_t retry);
  Status transfer();
  uint32_t resume_point() const;
  Status open_following_redirects(uint32_t from);
  Status accept_response(uint32_t from);
  Status accept_whole_file();
  bool is_our_tail(uint32_t from) const;
  Status accept_tail(uint32_t from);
  Status receive_body();
  size_t to_sector_end() const;  // bytes from the write position to the end of its 4 KiB sector
  Status consume(size_t n);
  Status begin_image();
  Status commit_durable_sectors();
  Status verify_and_activate();
  Status check_expectation(const SignedImage& image);
  Status check_deadline() const;
  Status check_pace(size_t n);
  Status fail(Status status);
  Status restart_from_zero();
  void set_state(JobState state);
  void report();

  OtaJobContext c_;
  OtaWriter writer_;
  JobProgress progress_;
  // The job's URL lives in journal_.url (what a reboot resumes); target_ is where the current attempt
  // went after redirects.
  JournalRecord journal_;
  bool journal_open_ = false;
  uint8_t journal_index_ = 0;
  bool resuming_ = false;
  char target_[kMaxLocationLength + 1] = {};
  uint16_t target_len_ = 0;
  HttpResponse response_;
  uint32_t body_received_ = 0;    // of the current response
  uint64_t started_ms_ = 0;       // when run() began (the job deadline counts from here)
  uint64_t window_start_ms_ = 0;  // the current low-speed window and the bytes received in it
  uint32_t window_bytes_ = 0;
  uint32_t image_size_ = 0;  // the announced size (0: unknown)
  // Until the first kImageHeadSize bytes of a whole-file response are in, they collect at the start of
  // the buffer and nothing is written: an image that is refused costs no erase.
  bool head_pending_ = false;
  uint32_t head_fill_ = 0;
};

}  // namespace privota
