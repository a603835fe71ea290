// Test doubles for the OTA job: a scripted HTTP server behind the Transport interface (status, headers,
// body in chunks of random size, errors at given byte offsets), a clock that only counts, an observer that
// records progress and can cancel, a flash decorator that counts writes per kind, and a rig that puts them
// around a Device with the user app 1.0.0 running from user_0.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "device_fixture.h"
#include "privota/ota_job.h"

namespace privota::test {

// Counts what reaches the flash: erases, programs, and the addresses touched.
class CountingFlash final : public Flash {
 public:
  explicit CountingFlash(Flash& inner) : inner_(inner) {}
  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override { return inner_.read(addr, out); }
  Status program(uint32_t addr, ConstByteSpan data) override {
    ++programs;
    touched.emplace_back(addr, static_cast<uint32_t>(data.size()));
    return inner_.program(addr, data);
  }
  Status erase(uint32_t addr, uint32_t len) override {
    ++erases;
    touched.emplace_back(addr, len);
    return inner_.erase(addr, len);
  }
  void reset() {
    erases = programs = 0;
    touched.clear();
  }

  uint64_t erases = 0;
  uint64_t programs = 0;
  std::vector<std::pair<uint32_t, uint32_t>> touched;

 private:
  Flash& inner_;
};

struct Request {
  std::string url;
  uint32_t range_start = 0;
  std::string if_range;
};

// What the server does with one request.
struct Reply {
  HttpResponse head;
  std::vector<uint8_t> body;
  std::optional<Status> open_error;  // open() fails with this
  std::optional<size_t> error_at;    // read() fails with read_error once this many body bytes went out
  Status read_error = Status::error(Code::kNetwork, "connection reset");
};

inline void set_text(char* field, size_t capacity, const std::string& text) {
  ASSERT_LT(text.size(), capacity);
  std::memcpy(field, text.c_str(), text.size() + 1);
}

// A well-behaved server for one file: 200 with Content-Length and ETag; 206 for a Range request whose
// If-Range matches the ETag (else 200, as RFC 9110 says).
inline Reply serve_file(const std::vector<uint8_t>& file, const std::string& etag, const Request& request) {
  Reply r;
  set_text(r.head.etag, sizeof r.head.etag, etag);
  const bool tail = request.range_start > 0 && request.if_range == etag && !etag.empty() &&
                    request.range_start < file.size();
  const size_t from = tail ? request.range_start : 0;
  r.head.status = tail ? 206 : 200;
  r.head.has_content_length = true;
  r.head.content_length = static_cast<uint32_t>(file.size() - from);
  if (tail) {
    r.head.has_content_range = true;
    r.head.range_first = static_cast<uint32_t>(from);
    r.head.range_last = static_cast<uint32_t>(file.size() - 1);
    r.head.range_total = static_cast<uint32_t>(file.size());
  }
  r.body.assign(file.begin() + static_cast<std::ptrdiff_t>(from), file.end());
  return r;
}

inline Reply redirect(uint16_t status, const std::string& location) {
  Reply r;
  r.head.status = status;
  set_text(r.head.location, sizeof r.head.location, location);
  return r;
}

inline Reply status_only(uint16_t status) {
  Reply r;
  r.head.status = status;
  r.head.has_content_length = true;
  return r;
}

class FakeTransport final : public Transport {
 public:
  // handler(request, index of the request): the reply. Default: serve `file` with `etag`.
  std::function<Reply(const Request&, size_t)> handler;
  std::vector<uint8_t> file;
  std::string etag = "\"v2\"";
  size_t max_chunk = 3000;
  // A slow server: every read() advances *clock_now by ms_per_read (the rig points it at its clock).
  uint64_t* clock_now = nullptr;
  uint32_t ms_per_read = 0;
  std::vector<Request> requests;
  size_t opens_without_close = 0;

  explicit FakeTransport(uint64_t seed = 1) : random_(seed) {}

  Status open(const HttpRequest& request, HttpResponse& response) override {
    if (open_) ++opens_without_close;
    Request r{std::string(request.url.data(), request.url.size()), request.range_start,
              std::string(request.if_range.data(), request.if_range.size())};
    requests.push_back(r);
    reply_ = handler ? handler(r, requests.size() - 1) : serve_file(file, etag, r);
    sent_ = 0;
    open_ = true;
    if (reply_.open_error) return *reply_.open_error;
    response = reply_.head;
    return Status::ok();
  }

  Result<size_t> read(ByteSpan out) override {
    if (!open_) return Status::error(Code::kBadState, "read() without open()");
    if (clock_now != nullptr) *clock_now += ms_per_read;
    const size_t limit =
        reply_.error_at ? std::min(*reply_.error_at, reply_.body.size()) : reply_.body.size();
    if (sent_ >= limit) {
      if (reply_.error_at) return reply_.read_error;
      return size_t{0};
    }
    size_t n = std::uniform_int_distribution<size_t>(1, max_chunk)(random_);
    n = std::min({n, out.size(), limit - sent_});
    std::memcpy(out.data(), reply_.body.data() + sent_, n);
    sent_ += n;
    return n;
  }

  void close() override { open_ = false; }

 private:
  std::mt19937_64 random_;
  Reply reply_;
  size_t sent_ = 0;
  bool open_ = false;
};

class FakeClock final : public Clock {
 public:
  uint64_t now = 0;
  std::vector<uint32_t> sleeps;
  uint64_t now_ms() override { return now; }
  void sleep_ms(uint32_t ms) override {
    sleeps.push_back(ms);
    now += ms;
  }
};

class FakeObserver final : public JobObserver {
 public:
  std::vector<JobProgress> reports;
  std::function<bool(const JobProgress&)> cancel_when;
  void on_progress(const JobProgress& progress) override { reports.push_back(progress); }
  bool cancel_requested() override { return cancel_when && !reports.empty() && cancel_when(reports.back()); }
  std::vector<JobState> states() const {
    std::vector<JobState> out;
    for (const JobProgress& p : reports) {
      if (out.empty() || out.back() != p.state) out.push_back(p.state);
    }
    return out;
  }
};

inline constexpr const char* kUpdateUrl = "https://updates.example.com/user/app.bin";
inline const char* const kAllowedHosts[] = {"updates.example.com", "cdn.example.com"};

// A device running user app 1.0.0 from user_0; the job would write user_1.
struct JobRig {
  Device device;
  CountingFlash counting{device.flash()};
  FakeTransport transport;
  FakeClock clock;
  FakeObserver observer;
  UrlPolicy url_policy;
  AppDescriptor running;
  const AppDescriptor* rejected = nullptr;
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSignatureSectorSize);
  OtaJobConfig config;
  const ImageExpectation* expect = nullptr;

  explicit JobRig(std::vector<uint8_t> file = signed_image(AppLevel::kUser, "2.0.0", 2)) {
    device.install(AppLevel::kUser, 0, signed_image(AppLevel::kUser, "1.0.0", 1));
    std::strcpy(running.version, "1.0.0");
    running.secure_version = 1;
    url_policy.allowed_hosts = kAllowedHosts;
    transport.file = std::move(file);
    transport.clock_now = &clock.now;
    device.attach(counting);
    counting.reset();
  }

  OtaJobContext context() {
    OtaJobContext c;
    c.slots = &device.slots(AppLevel::kUser);
    c.running_slot = 0;
    c.running = &running;
    c.rejected = rejected;
    c.policy = device.policy(AppLevel::kUser);
    c.policy.min_secure_version = device.floor(AppLevel::kUser);
    c.url_policy = &url_policy;
    c.sha256 = &sha;
    c.verifier = &verifier;
    c.transport = &transport;
    c.clock = &clock;
    c.observer = &observer;
    c.buffer = {buffer.data(), buffer.size()};
    c.config = config;
    c.expect = expect;
    return c;
  }

  // Starts and runs one job for `url`.
  Status run(const char* url = kUpdateUrl) {
    OtaJob job(context());
    PRIVOTA_TRY(job.start({url, std::strlen(url)}));
    const Status status = job.run();
    last = job.progress();
    return status;
  }

  // The version the next boot picks.
  std::string booted_version() {
    const Result<BootDecision> boot = device.boot(AppLevel::kUser);
    return boot.is_ok() ? std::string(boot->image.info.desc.version) : "(none)";
  }

  // uotadata selects user_1 as NEW: the job activated its image.
  bool selected_new() {
    const OtaDataView view = device.view(AppLevel::kUser);
    return view.active_slot(2) == 1 && view.active_state() == OtaState::kNew;
  }

  JobProgress last;
};

}  // namespace privota::test
