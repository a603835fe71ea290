// Fuzzes the OTA job against a hostile server: the input scripts every response the transport gives
// (status, Content-Length, Content-Range, ETag, Last-Modified, Location, the body with flipped bytes, its
// chunking, errors at byte offsets). Whatever the server does, the job must
//   - never crash, hang or read or write out of bounds (ASan/UBSan),
//   - never write the flash outside the passive slot and the uotadata partition,
//   - never select an image that does not verify, and on failure leave the running slot selected and no
//     live journal record,
//   - report a final state that matches its status.
//
// Input: [0] config: bits 0-1 max_attempts-1, bits 2-3 max_redirects, bit 4 no running app, bit 5 resume
//        after a failure, check that no journal record is left to take over), bit 6 cancel after
//        (input size % 23) progress reports
//        [1] bits 0-2: the number of scripted replies - 1; then the replies, 16 bytes each (ScriptedReply);
//        what is left is an extra body for replies that ask for one instead of the genuine image. When
//        the script runs out, open() fails with kNetwork.
// The genuine image is tests/data/signature/hello.user_signed.bin (user app 1.2.0, ESP32-C3, signed by a
// certificate of tests/data/signature/ca_cert.pem), the device runs 1.0.0 from user_0.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/ota_data.h"
#include "privota/ota_job.h"

using namespace privota;

namespace {

constexpr uint32_t kSelectSize = 2 * Flash::kSectorSize;
constexpr uint32_t kSlotSize = 16 * Flash::kSectorSize;
constexpr uint32_t kSlot0 = kSelectSize;
constexpr uint32_t kSlot1 = kSelectSize + kSlotSize;
constexpr size_t kReplySize = 16;

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (bytes.empty()) {
    fprintf(stderr, "fuzz_ota_job: cannot read %s\n", path);
    abort();
  }
  return bytes;
}

struct Fixture {
  std::vector<uint8_t> image = read_file(PRIVOTA_FUZZ_USER_IMAGE);
  host::MbedCertificateVerifier* ca = nullptr;
  Fixture() {
    const std::vector<uint8_t> pem = read_file(PRIVOTA_FUZZ_CA_PEM);
    Result<host::MbedCertificateVerifier> parsed =
        host::MbedCertificateVerifier::from_pem(std::string(pem.begin(), pem.end()));
    if (!parsed.is_ok()) abort();
    ca = new host::MbedCertificateVerifier(static_cast<host::MbedCertificateVerifier&&>(parsed.value()));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Traps on any write outside the passive slot (user_1) and uotadata.
class GuardedFlash final : public Flash {
 public:
  explicit GuardedFlash(Flash& inner) : inner_(inner) {}
  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override { return inner_.read(addr, out); }
  Status program(uint32_t addr, ConstByteSpan data) override {
    check(addr, static_cast<uint32_t>(data.size()));
    return inner_.program(addr, data);
  }
  Status erase(uint32_t addr, uint32_t len) override {
    check(addr, len);
    return inner_.erase(addr, len);
  }

 private:
  static void check(uint32_t addr, uint32_t len) {
    const bool select = addr + len <= kSelectSize;
    const bool passive = addr >= kSlot1 && addr + len <= kSlot1 + kSlotSize;
    if (!select && !passive) __builtin_trap();
  }
  Flash& inner_;
};

// One scripted reply, 16 bytes:
//   [0] status: < 200 -> a table entry, else 100 + value*? (see status_of)   [1] flags
//   [2..5] Content-Length u32 (flag bit 1: use it instead of the true length)
//   [6..8] range_first u24 (flag bit 3: instead of the requested start)  [9..11] error_at u24 (flag bit 6)
//   [12] max chunk  [13..14] offset of a flipped byte u16 (flag bit 7) [15] the xor
struct ScriptedReply {
  uint8_t b[kReplySize] = {};
  uint16_t status() const {
    static const uint16_t table[] = {200, 200, 200, 206, 301, 302, 303, 307, 308, 304, 404, 500, 503, 416};
    return b[0] < sizeof table / sizeof table[0] ? table[b[0]] : static_cast<uint16_t>(100 + b[0] * 2);
  }
  bool flag(int bit) const { return (b[1] >> bit) & 1; }
  uint32_t u24(size_t at) const { return b[at] | b[at + 1] << 8 | static_cast<uint32_t>(b[at + 2]) << 16; }
};

class ScriptedTransport final : public Transport {
 public:
  std::vector<ScriptedReply> replies;
  std::vector<uint8_t> extra_body;
  const std::vector<uint8_t>* image = nullptr;
  size_t next = 0;

  Status open(const HttpRequest& request, HttpResponse& response) override {
    if (request.url.size() > kMaxLocationLength) __builtin_trap();
    if (next >= replies.size()) return Status::error(Code::kNetwork, "script ended");
    r_ = replies[next++];
    const uint8_t flags = r_.b[1];
    if (r_.flag(0) && (r_.b[12] & 0x0F) == 0x0F)
      return Status::error(Code::kTimeout, "scripted connect timeout");
    response = HttpResponse();
    response.status = r_.status();
    body_ = r_.flag(5) ? extra_body : *image;
    const uint32_t total = static_cast<uint32_t>(body_.size());
    const uint32_t start = request.range_start < total ? request.range_start : 0;
    const uint32_t first = r_.flag(3) ? r_.u24(6) : start;
    if (response.status == 206 && first < total) body_.erase(body_.begin(), body_.begin() + first);
    if (r_.flag(7) && !body_.empty()) body_[(r_.b[13] | r_.b[14] << 8) % body_.size()] ^= r_.b[15];
    response.has_content_length = !r_.flag(2) || r_.flag(1);
    response.content_length = r_.flag(1) ? static_cast<uint32_t>(r_.b[2] | r_.b[3] << 8 | r_.b[4] << 16 |
                                                                 static_cast<uint32_t>(r_.b[5]) << 24)
                                         : static_cast<uint32_t>(body_.size());
    response.has_content_range = response.status == 206;
    response.range_first = first;
    response.range_last = total == 0 ? 0 : total - 1;
    response.range_total = r_.flag(4) ? r_.u24(9) : total;
    if (flags & 0x01) memcpy(response.etag, "\"e1\"", 5);
    if (r_.flag(2)) memcpy(response.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT", 30);
    static const char* const locations[] = {"/next",
                                            "https://cdn.example.com/a",
                                            "https://evil.example.org/",
                                            "http://updates.example.com/x",
                                            "//evil/",
                                            "relative",
                                            "https://updates.example.com:444/",
                                            ""};
    strcpy(response.location, locations[r_.b[12] >> 5]);
    response.location_too_long = (r_.b[12] & 0x1F) == 0x1F;
    sent_ = 0;
    error_at_ = r_.flag(6) ? r_.u24(9) % (body_.size() + 1) : SIZE_MAX;
    chunk_ = (r_.b[12] & 0x0F) * 331 + 1;
    return Status::ok();
  }

  Result<size_t> read(ByteSpan out) override {
    if (out.size() == 0) __builtin_trap();  // the job always offers room
    if (sent_ >= error_at_) return Status::error(r_.b[15] & 1 ? Code::kNetwork : Code::kTimeout, "scripted");
    size_t n = body_.size() - sent_;
    if (n > chunk_) n = chunk_;
    if (n > out.size()) n = out.size();
    if (error_at_ != SIZE_MAX && n > error_at_ - sent_) n = error_at_ - sent_;
    if (n > 0) memcpy(out.data(), body_.data() + sent_, n);
    sent_ += n;
    return n;
  }

  void close() override {}

 private:
  ScriptedReply r_;
  std::vector<uint8_t> body_;
  size_t sent_ = 0;
  size_t error_at_ = SIZE_MAX;
  size_t chunk_ = 1;
};

class CountingClock final : public Clock {
 public:
  uint64_t now = 0;
  uint64_t now_ms() override { return now; }
  void sleep_ms(uint32_t ms) override {
    if (ms > 100) __builtin_trap();  // backoff sleeps in slices that notice a cancel
    now += ms;
  }
};

class Observer final : public JobObserver {
 public:
  uint32_t reports = 0;
  uint32_t cancel_after = UINT32_MAX;
  void on_progress(const JobProgress& p) override {
    ++reports;
    if (p.bytes_total != 0 && p.bytes_done > p.bytes_total) __builtin_trap();
  }
  bool cancel_requested() override { return reports >= cancel_after; }
};

const char* const kHosts[] = {"updates.example.com", "cdn.example.com"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Fixture& fx = fixture();
  const uint8_t config = data[0];

  std::vector<uint8_t> cells(kSelectSize + 2 * kSlotSize, 0xFF);
  memcpy(cells.data() + kSlot0, fx.image.data(), fx.image.size());
  host::MemoryFlash memory(std::move(cells));
  GuardedFlash guarded(memory);
  AppSlots slots;
  slots.select = FlashRegion(guarded, 0, kSelectSize);
  slots.slots[0] = FlashRegion(guarded, kSlot0, kSlotSize);
  slots.slots[1] = FlashRegion(guarded, kSlot1, kSlotSize);
  slots.slot_count = 2;
  if (!write_ota_selection(slots.select, 2, 0, OtaState::kValid).is_ok()) __builtin_trap();

  ScriptedTransport transport;
  transport.image = &fx.image;
  size_t at = 2;
  const size_t wanted = (data[1] & 0x07) + 1u;
  while (at + kReplySize <= size && transport.replies.size() < wanted) {
    ScriptedReply r;
    memcpy(r.b, data + at, kReplySize);
    transport.replies.push_back(r);
    at += kReplySize;
  }
  transport.extra_body.assign(data + at, data + size);

  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  CountingClock clock;
  Observer observer;
  UrlPolicy url_policy;
  url_policy.allowed_hosts = kHosts;
  AppDescriptor running;
  strcpy(running.version, "1.0.0");
  static uint8_t buffer[kSignatureSectorSize];

  OtaJobContext c;
  c.slots = &slots;
  c.running_slot = 0;
  c.running = (config & 0x10) ? nullptr : &running;
  c.policy.scheme = SignatureScheme::kUserAppCertificate;
  c.policy.user_ca = fx.ca;
  c.policy.limits.expected_chip = ChipId::kEsp32C3;
  c.url_policy = &url_policy;
  c.sha256 = &sha;
  c.verifier = &verifier;
  c.transport = &transport;
  c.clock = &clock;
  c.observer = &observer;
  c.buffer = ByteSpan(buffer, sizeof buffer);
  c.config.max_attempts = (config & 0x03) + 1;
  c.config.max_redirects = (config >> 2) & 0x03;
  c.config.first_backoff_ms = 150;
  c.config.max_backoff_ms = 400;
  if (config & 0x40) observer.cancel_after = static_cast<uint32_t>(size % 23);

  const char url[] = "https://updates.example.com/user/app.bin";
  OtaJob job(c);
  if (!job.start(Span<const char>(url, sizeof url - 1)).is_ok()) __builtin_trap();
  Status status = job.run();
  if ((config & 0x20) && !status.is_ok()) {
    // The same flash after a "reboot": a record left live would be taken over; none may be after a
    // failure, which the job closes.
    OtaJob again(c);
    const Status resumed = again.resume_from_journal();
    if (resumed.code() != Code::kNotFound) __builtin_trap();
  }

  const JobProgress& p = job.progress();
  if (getenv("PRIVOTA_FUZZ_VERBOSE") != nullptr) {
    fprintf(stderr, "fuzz_ota_job: %s (%s) after %u attempts, %u bytes received\n", code_name(status.code()),
            status.reason(), p.attempts, p.bytes_received);
  }
  const Result<OtaDataView> view = read_ota_data(slots.select);
  if (!view.is_ok()) __builtin_trap();
  if (status.is_ok()) {
    if (p.state != JobState::kRebooting) __builtin_trap();
    if (view->active_slot(2) != 1 || view->active_state() != OtaState::kNew) __builtin_trap();
    TrustPolicy policy = c.policy;
    policy.limits.max_image_size = kSlotSize;
    const Result<SignedImage> verified = verify_signed_image(slots.slots[1], policy, sha, verifier, c.buffer);
    if (!verified.is_ok()) __builtin_trap();
    if (memcmp(memory.cells().data() + kSlot1, fx.image.data(), fx.image.size()) != 0) __builtin_trap();
  } else {
    if (p.state != JobState::kFailed && p.state != JobState::kCancelled) __builtin_trap();
    if (p.error.code() != status.code()) __builtin_trap();
    if (view->active_slot(2) != 0) __builtin_trap();
    if (read_live_journal(slots).status().code() != Code::kNotFound) __builtin_trap();
  }
  if (p.attempts > c.config.max_attempts) __builtin_trap();
  return 0;
}
