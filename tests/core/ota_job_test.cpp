// The OTA job end to end over a scripted server: downloads, resumes, redirects, refusals, retries, cancel.
#include "privota/ota_job.h"

#include <gtest/gtest.h>

#include <cstring>

#include <cstdio>
#include <numeric>

#include "ota_job_fakes.h"
#include "privota/host/power_cut_flash.h"
#include "privota/image_head.h"

namespace privota {
namespace {

using test::JobRig;
using test::Reply;
using test::Request;
using test::serve_file;
using test::signed_image;

const std::vector<uint8_t>& new_image() {
  return signed_image(AppLevel::kUser, "2.0.0", 2);
}

Reply cut_at(size_t offset, Code code, const std::vector<uint8_t>& file, const std::string& etag,
             const Request& r) {
  Reply reply = serve_file(file, etag, r);
  reply.error_at = offset;
  reply.read_error = Status::error(code, "scripted transport error");
  return reply;
}

TEST(OtaJob, FitsInSmallRam) {
  std::printf("sizeof(OtaJob) = %zu bytes (+ the caller's %u-byte buffer)\n", sizeof(OtaJob),
              kSignatureSectorSize);
  EXPECT_LT(sizeof(OtaJob), 3 * 1024u);
}

TEST(OtaJob, DownloadsVerifiesAndSelectsTheNewImageInRandomChunks) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    JobRig rig;
    rig.transport = test::FakeTransport(seed);
    rig.transport.file = new_image();
    rig.transport.max_chunk = seed * 700;
    ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
    EXPECT_EQ(rig.last.state, JobState::kRebooting);
    EXPECT_TRUE(rig.selected_new());
    EXPECT_TRUE(rig.device.verify(AppLevel::kUser, 1).is_ok());
    EXPECT_EQ(rig.booted_version(), "2.0.0");
    EXPECT_EQ(rig.last.bytes_done, new_image().size());
    EXPECT_EQ(rig.last.bytes_total, new_image().size());
    EXPECT_EQ(rig.last.bytes_received, new_image().size());
    EXPECT_EQ(rig.last.attempts, 1u);
    EXPECT_EQ(rig.observer.states(),
              (std::vector<JobState>{JobState::kQueued, JobState::kConnecting, JobState::kDownloading,
                                     JobState::kVerifying, JobState::kActivating, JobState::kRebooting}));
    EXPECT_EQ(read_live_journal(rig.device.slots(AppLevel::kUser)).status().code(), Code::kNotFound);
    for (const auto& [addr, len] : rig.counting.touched) {
      const FlashRegion& passive = rig.device.slots(AppLevel::kUser).slots[1];
      const FlashRegion& select = rig.device.slots(AppLevel::kUser).select;
      const bool in_passive = addr >= passive.offset() && addr + len <= passive.offset() + passive.size();
      const bool in_select = addr >= select.offset() && addr + len <= select.offset() + select.size();
      EXPECT_TRUE(in_passive || in_select) << "wrote " << len << " bytes at " << addr;
    }
  }
}

TEST(OtaJob, ReportsProgressAfterEveryChunk) {
  JobRig rig;
  ASSERT_TRUE(rig.run().is_ok());
  uint32_t done = 0;
  size_t chunks = 0;
  for (const JobProgress& p : rig.observer.reports) {
    if (p.state != JobState::kDownloading) continue;
    EXPECT_GE(p.bytes_done, done);
    done = p.bytes_done;
    ++chunks;
  }
  EXPECT_GT(chunks, new_image().size() / rig.transport.max_chunk);
  EXPECT_EQ(done, new_image().size());
}

TEST(OtaJob, ResumesWithRangeAndIfRangeAfterATransportErrorMidBody) {
  JobRig rig;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t i) {
    return i == 0 ? cut_at(10000, Code::kNetwork, file, "\"v2\"", r) : serve_file(file, "\"v2\"", r);
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  ASSERT_EQ(rig.transport.requests.size(), 2u);
  EXPECT_EQ(rig.transport.requests[1].range_start, 8192u);  // the last whole sector in flash
  EXPECT_EQ(rig.transport.requests[1].if_range, "\"v2\"");
  EXPECT_EQ(rig.last.resumed_from, 8192u);
  EXPECT_EQ(rig.last.attempts, 2u);
  EXPECT_EQ(rig.last.bytes_received, file.size() + (10000 - 8192));
  EXPECT_EQ(rig.clock.now, 250u);
  EXPECT_TRUE(rig.selected_new());
  EXPECT_EQ(rig.booted_version(), "2.0.0");
}

TEST(OtaJob, StartsOverWhenTheFileChangedBetweenAttempts) {
  JobRig rig;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t i) {
    // The second answer is a new file version: If-Range does not match, so the server sends it whole.
    return i == 0 ? cut_at(10000, Code::kTimeout, file, "\"v1\"", r) : serve_file(file, "\"v2\"", r);
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  ASSERT_EQ(rig.transport.requests.size(), 2u);
  EXPECT_EQ(rig.transport.requests[1].range_start, 8192u);
  EXPECT_EQ(rig.last.bytes_received, file.size() + 10000);
  EXPECT_TRUE(rig.selected_new());
}

TEST(OtaJob, StartsOverWhenAPartialAnswerDoesNotMatchTheRange) {
  JobRig rig;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t i) {
    if (i == 0) return cut_at(10000, Code::kNetwork, file, "\"v2\"", r);
    Reply reply = serve_file(file, "\"v2\"", r);
    if (i == 1) reply.head.range_first = 4096;  // not the start we asked for
    return reply;
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  ASSERT_EQ(rig.transport.requests.size(), 3u);
  EXPECT_EQ(rig.transport.requests[2].range_start, 0u);
  // Starting over is not a failed attempt: the second attempt asked again from zero at once.
  EXPECT_EQ(rig.last.attempts, 2u);
  EXPECT_TRUE(rig.clock.sleeps.size() <= 3u);  // one backoff (250 ms in slices of 100), not two
  EXPECT_TRUE(rig.selected_new());
}

// With two attempts in all, a wrong 206 after a cut still ends in the new image.
TEST(OtaJob, AWrongPartialAnswerUsesUpNoAttempt) {
  JobRig rig;
  rig.config.max_attempts = 2;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t i) {
    if (i == 0) return cut_at(10000, Code::kNetwork, file, "\"v2\"", r);
    Reply reply = serve_file(file, "\"v2\"", r);
    if (i == 1) reply.head.range_total += 4096;  // another file's length
    return reply;
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  EXPECT_EQ(rig.last.attempts, 2u);
  EXPECT_TRUE(rig.selected_new());
}

TEST(OtaJob, AcceptsAWholeFileWithoutContentLength) {
  JobRig rig;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t) {
    Reply reply = serve_file(file, "", r);
    reply.head.has_content_length = false;
    return reply;
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  EXPECT_EQ(rig.last.bytes_total, 0u);
  EXPECT_TRUE(rig.selected_new());
}

TEST(OtaJob, WithoutAValidatorARetryStartsFromZero) {
  JobRig rig;
  const std::vector<uint8_t>& file = new_image();
  rig.transport.handler = [&](const Request& r, size_t i) {
    return i == 0 ? cut_at(10000, Code::kNetwork, file, "", r) : serve_file(file, "", r);
  };
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  ASSERT_EQ(rig.transport.requests.size(), 2u);
  EXPECT_EQ(rig.transport.requests[1].range_start, 0u);
  EXPECT_TRUE(rig.selected_new());
}

struct HttpRow {
  const char* name;
  std::function<Reply(const std::vector<uint8_t>&, const Request&, size_t)> reply;
  Code code;
  uint32_t detail;
  uint32_t attempts;
};

TEST(OtaJob, HttpOutcomes) {
  using test::redirect;
  using test::status_only;
  const HttpRow rows[] = {
      {"404 is final", [](auto&, auto&, size_t) { return status_only(404); }, Code::kHttpStatus, 404, 1},
      {"403 is final", [](auto&, auto&, size_t) { return status_only(403); }, Code::kHttpStatus, 403, 1},
      {"304 is not a redirect", [](auto&, auto&, size_t) { return status_only(304); }, Code::kHttpStatus, 304,
       1},
      {"206 to a request without Range",
       [](auto& f, auto& r, size_t) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.head.status = 206;
         return reply;
       },
       Code::kHttpStatus, 206, 4},
      {"500 is retried, then fails", [](auto&, auto&, size_t) { return status_only(500); }, Code::kHttpStatus,
       500, 4},
      {"503 twice, then the file",
       [](auto& f, auto& r, size_t i) { return i < 2 ? status_only(503) : serve_file(f, "\"v2\"", r); },
       Code::kOk, 0, 3},
      {"connection refused, then the file",
       [](auto& f, auto& r, size_t i) {
         Reply reply = serve_file(f, "\"v2\"", r);
         if (i == 0) reply.open_error = Status::error(Code::kNetwork, "refused");
         return reply;
       },
       Code::kOk, 0, 2},
      {"TLS failure is final",
       [](auto& f, auto& r, size_t) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.open_error = Status::error(Code::kUntrusted, "certificate does not chain");
         return reply;
       },
       Code::kUntrusted, 0, 1},
      {"redirect chain to an allowed host",
       [](auto& f, auto& r, size_t) {
         if (r.url == test::kUpdateUrl) return redirect(302, "https://cdn.example.com/a/app.bin");
         if (r.url == "https://cdn.example.com/a/app.bin") return redirect(307, "/b/app.bin?sig=1");
         if (r.url == "https://cdn.example.com/b/app.bin?sig=1") return serve_file(f, "\"v2\"", r);
         return test::status_only(404);
       },
       Code::kOk, 0, 1},
      {"redirect loop", [](auto&, auto&, size_t) { return redirect(301, "/user/app.bin"); },
       Code::kTooManyRedirects, 3, 1},
      {"redirect to a host outside the policy",
       [](auto&, auto&, size_t) { return redirect(302, "https://evil.example.org/app.bin"); },
       Code::kUrlHostNotAllowed, 0, 1},
      {"redirect to plain http",
       [](auto&, auto&, size_t) { return redirect(308, "http://cdn.example.com/x"); },
       Code::kUrlSchemeNotAllowed, 0, 1},
      {"redirect to another port",
       [](auto&, auto&, size_t) { return redirect(303, "https://cdn.example.com:8443/x"); },
       Code::kUrlPortNotAllowed, 0, 1},
      {"scheme-relative redirect", [](auto&, auto&, size_t) { return redirect(302, "//evil.example.org/x"); },
       Code::kUrlMalformed, 0, 1},
      {"redirect without Location", [](auto&, auto&, size_t) { return redirect(302, ""); },
       Code::kUrlMalformed, 0, 1},
      {"redirect Location too long",
       [](auto&, auto&, size_t) {
         Reply reply = redirect(302, "");
         reply.head.location_too_long = true;
         return reply;
       },
       Code::kUrlTooLong, 0, 1},
  };
  for (const HttpRow& row : rows) {
    SCOPED_TRACE(row.name);
    JobRig rig;
    rig.transport.handler = [&](const Request& r, size_t i) { return row.reply(rig.transport.file, r, i); };
    const Status status = rig.run();
    EXPECT_EQ(status.code(), row.code) << status.reason();
    if (row.detail != 0) {
      EXPECT_EQ(status.detail(), row.detail);
    }
    EXPECT_EQ(rig.last.attempts, row.attempts);
    EXPECT_EQ(rig.selected_new(), row.code == Code::kOk);
    if (row.code != Code::kOk) {
      EXPECT_EQ(rig.last.state, JobState::kFailed);
      EXPECT_EQ(rig.last.error.code(), row.code);
      EXPECT_EQ(rig.counting.erases, 0u);
      EXPECT_EQ(rig.booted_version(), "1.0.0");
    }
  }
}

TEST(OtaJob, RedirectsFollowedAreCounted) {
  JobRig rig;
  rig.transport.handler = [&](const Request& r, size_t) {
    if (r.url == test::kUpdateUrl) return test::redirect(301, "https://cdn.example.com/app.bin");
    return serve_file(rig.transport.file, "\"v2\"", r);
  };
  ASSERT_TRUE(rig.run().is_ok());
  EXPECT_EQ(rig.last.redirects, 1u);
}

struct RefusalRow {
  const char* name;
  std::function<void(JobRig&)> setup;
  Code code;
};

TEST(OtaJob, RefusesBeforeAnyErase) {
  const RefusalRow rows[] = {
      {"Content-Length larger than the passive slot",
       [](JobRig& rig) {
         rig.transport.handler = [&rig](const Request& r, size_t) {
           Reply reply = serve_file(rig.transport.file, "\"v2\"", r);
           reply.head.content_length = 256 * 1024 + 4096;
           return reply;
         };
       },
       Code::kLimitExceeded},
      {"Content-Length not a whole number of sectors",
       [](JobRig& rig) {
         rig.transport.handler = [&rig](const Request& r, size_t) {
           Reply reply = serve_file(rig.transport.file, "\"v2\"", r);
           reply.head.content_length = 5000;
           return reply;
         };
       },
       Code::kBadLength},
      {"Content-Length zero",
       [](JobRig& rig) {
         rig.transport.handler = [](const Request&, size_t) { return test::status_only(200); };
       },
       Code::kBadLength},
      {"image for another chip", [](JobRig& rig) { rig.transport.file[12] = 0x09; }, Code::kWrongChip},
      {"not an app image", [](JobRig& rig) { rig.transport.file[0] = 0x00; }, Code::kBadMagic},
      {"secure_version below the floor",
       [](JobRig& rig) {
         ASSERT_TRUE(mark_app_valid(rig.device.slots(AppLevel::kUser), 0, 1).is_ok());
         rig.counting.reset();
         rig.transport.file = signed_image(AppLevel::kUser, "3.0.0", 0);
       },
       Code::kRollback},
      {"same version", [](JobRig& rig) { rig.transport.file = signed_image(AppLevel::kUser, "1.0.0", 1); },
       Code::kNotNewer},
      {"older version", [](JobRig& rig) { rig.transport.file = signed_image(AppLevel::kUser, "0.9.7", 1); },
       Code::kNotNewer},
      {"same version, other spelling",
       [](JobRig& rig) { rig.transport.file = signed_image(AppLevel::kUser, "v1.0", 1); }, Code::kNotNewer},
  };
  for (const RefusalRow& row : rows) {
    SCOPED_TRACE(row.name);
    JobRig rig;
    row.setup(rig);
    const Status status = rig.run();
    EXPECT_EQ(status.code(), row.code) << status.reason();
    EXPECT_EQ(rig.counting.erases, 0u);
    EXPECT_EQ(rig.counting.programs, 0u);
    EXPECT_EQ(rig.last.attempts, 1u);
    EXPECT_EQ(rig.booted_version(), "1.0.0");
  }
}

// The descriptor of an image's first bytes, as the protected app reads it from a rolled-back slot.
AppDescriptor descriptor_of(const std::vector<uint8_t>& image) {
  AppDescriptor desc;
  const uint8_t* d = image.data() + kImageHeaderSize + kSegmentHeaderSize;
  std::memcpy(desc.version, d + 16, 32);
  std::memcpy(desc.app_elf_sha256, d + 144, sizeof desc.app_elf_sha256);
  return desc;
}

TEST(OtaJob, RefusesTheImageThisDeviceRolledBackBeforeAnyErase) {
  JobRig rig;
  const AppDescriptor rejected = descriptor_of(rig.transport.file);
  rig.rejected = &rejected;
  const Status status = rig.run();
  EXPECT_EQ(status.code(), Code::kRollback) << status.reason();
  EXPECT_STREQ(status.reason(), "this image failed its trial on this device and was rolled back");
  EXPECT_EQ(rig.counting.erases, 0u);
  EXPECT_EQ(rig.counting.programs, 0u);
}

TEST(OtaJob, AcceptsAFixedBuildOfTheVersionThatWasRolledBack) {
  JobRig rig;
  AppDescriptor rejected = descriptor_of(rig.transport.file);
  rejected.app_elf_sha256[0] ^= 0xFF;  // same version text, another build
  rig.rejected = &rejected;
  EXPECT_TRUE(rig.run().is_ok());
  EXPECT_TRUE(rig.selected_new());
}

struct BodyRow {
  const char* name;
  std::function<Reply(const std::vector<uint8_t>&, const Request&)> reply;
  std::vector<Code> codes;  // any of these
  uint32_t attempts;
};

TEST(OtaJob, BodiesThatDoNotMatchTheirHeadsFail) {
  const BodyRow rows[] = {
      {"Content-Length longer than the body",
       [](auto& f, auto& r) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.head.content_length += 4096;
         reply.head.has_content_range = false;
         return reply;
       },
       {Code::kTruncated},
       4},
      {"Content-Length shorter than the image",
       [](auto& f, auto& r) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.head.content_length -= 4096;
         reply.body.resize(reply.body.size() - 4096);
         return reply;
       },
       {Code::kBadMagic, Code::kTruncated, Code::kBadSignature, Code::kBadHash, Code::kBadChecksum},
       1},
      {"body longer than Content-Length",
       [](auto& f, auto& r) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.head.content_length -= 4096;
         return reply;
       },
       {Code::kTrailingData},
       1},
      {"stall",
       [](auto& f, auto& r) { return cut_at(5000, Code::kTimeout, f, "\"v2\"", r); },
       {Code::kTimeout},
       4},
      {"tampered payload byte",
       [](auto& f, auto& r) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.body[5000] ^= 0x01;
         return reply;
       },
       {Code::kBadHash, Code::kBadSignature, Code::kBadChecksum},
       1},
      {"tampered signature byte",
       [](auto& f, auto& r) {
         Reply reply = serve_file(f, "\"v2\"", r);
         reply.body[reply.body.size() - 4096 + 100] ^= 0x01;
         return reply;
       },
       {Code::kBadHash, Code::kBadSignature, Code::kBadChecksum},
       1},
  };
  for (const BodyRow& row : rows) {
    SCOPED_TRACE(row.name);
    JobRig rig;
    rig.transport.handler = [&](const Request& r, size_t) { return row.reply(rig.transport.file, r); };
    const Status status = rig.run();
    EXPECT_NE(std::find(row.codes.begin(), row.codes.end(), status.code()), row.codes.end())
        << code_name(status.code()) << ": " << status.reason();
    EXPECT_EQ(rig.last.attempts, row.attempts);
    EXPECT_FALSE(rig.selected_new());
    EXPECT_EQ(rig.booted_version(), "1.0.0");
    EXPECT_EQ(read_live_journal(rig.device.slots(AppLevel::kUser)).status().code(), Code::kNotFound);
  }
}

TEST(OtaJob, BacksOffDoublingInSlicesOfAtMost100Ms) {
  JobRig rig;
  rig.config.max_attempts = 5;
  rig.config.first_backoff_ms = 250;
  rig.config.max_backoff_ms = 800;
  rig.transport.handler = [](const Request&, size_t) { return test::status_only(502); };
  EXPECT_EQ(rig.run().code(), Code::kHttpStatus);
  EXPECT_EQ(rig.last.attempts, 5u);
  EXPECT_EQ(rig.clock.now, 250u + 500 + 800 + 800);
  for (uint32_t slice : rig.clock.sleeps)
    EXPECT_LE(slice, 100u);
}

// A server that drips (10 bytes a second) stays under any stall timeout; the low-speed limit ends each
// attempt after one window, and the job fails with its own code once the attempts are used up.
TEST(OtaJob, FailsWhenTheServerSendsBelowTheLowSpeedLimit) {
  JobRig rig;
  rig.config.low_speed_bytes = 4096;
  rig.config.low_speed_window_ms = 10000;
  rig.config.job_deadline_ms = 0;
  rig.config.max_attempts = 2;
  rig.transport.max_chunk = 10;
  rig.transport.ms_per_read = 1000;
  const Status status = rig.run();
  EXPECT_EQ(status.code(), Code::kTooSlow) << status.reason();
  EXPECT_EQ(rig.last.attempts, 2u);
  EXPECT_LE(rig.last.bytes_received, 2u * 11 * 10);  // one window (and the read that ended it) each
  EXPECT_FALSE(rig.selected_new());
  EXPECT_EQ(rig.booted_version(), "1.0.0");
}

TEST(OtaJob, AServerAboveTheLowSpeedLimitIsNotTooSlow) {
  JobRig rig;
  rig.config.low_speed_bytes = 4096;
  rig.config.low_speed_window_ms = 10000;
  rig.transport.max_chunk = 3000;
  rig.transport.ms_per_read = 1000;  // 1.5 KB/s on average: 15 KB per window
  ASSERT_TRUE(rig.run().is_ok()) << rig.last.error.reason();
  EXPECT_TRUE(rig.selected_new());
}

// Fast enough for the low-speed limit, but the whole job takes longer than its deadline: final at once.
TEST(OtaJob, FailsAtTheJobDeadline) {
  JobRig rig;
  rig.config.low_speed_bytes = 0;
  rig.config.job_deadline_ms = 60000;
  rig.transport.max_chunk = 20;  // 60 reads: at most 1200 bytes, far from a whole image
  rig.transport.ms_per_read = 1000;
  const Status status = rig.run();
  EXPECT_EQ(status.code(), Code::kJobDeadline) << status.reason();
  EXPECT_EQ(rig.last.attempts, 1u);
  EXPECT_LE(rig.clock.now, 61000u);
  EXPECT_FALSE(rig.selected_new());
}

// The deadline also ends a job that only retries: it is checked during the backoff.
TEST(OtaJob, TheDeadlineEndsRetriesToo) {
  JobRig rig;
  rig.config.job_deadline_ms = 3000;
  rig.config.max_attempts = 100;
  rig.config.first_backoff_ms = 1000;
  rig.config.max_backoff_ms = 1000;
  rig.transport.handler = [](const Request&, size_t) {
    Reply reply;
    reply.open_error = Status::error(Code::kNetwork, "connection refused");
    return reply;
  };
  const Status status = rig.run();
  EXPECT_EQ(status.code(), Code::kJobDeadline) << status.reason();
  EXPECT_LE(rig.last.attempts, 4u);
  EXPECT_LE(rig.clock.now, 3100u);
}

TEST(OtaJob, CancelMidDownloadStopsAndClosesTheJournal) {
  JobRig rig;
  rig.observer.cancel_when = [](const JobProgress& p) { return p.bytes_done > 9000; };
  const Status status = rig.run();
  EXPECT_EQ(status.code(), Code::kCancelled);
  EXPECT_EQ(rig.last.state, JobState::kCancelled);
  EXPECT_EQ(rig.last.error.code(), Code::kCancelled);
  EXPECT_LT(rig.last.bytes_done, new_image().size());
  EXPECT_FALSE(rig.selected_new());
  EXPECT_EQ(read_live_journal(rig.device.slots(AppLevel::kUser)).status().code(), Code::kNotFound);
}

TEST(OtaJob, CancelDuringBackoff) {
  JobRig rig;
  rig.transport.handler = [](const Request&, size_t) { return test::status_only(500); };
  rig.observer.cancel_when = [&rig](const JobProgress&) { return rig.clock.now >= 100; };
  EXPECT_EQ(rig.run().code(), Code::kCancelled);
  EXPECT_EQ(rig.last.attempts, 1u);
  EXPECT_LE(rig.clock.now, 100u);
}

TEST(OtaJob, JournalsTheJobWhileItRuns) {
  JobRig rig;
  std::optional<JournalRecord> seen;
  rig.observer.cancel_when = [&](const JobProgress& p) {
    if (p.bytes_done > 13000 && !seen) {
      seen = read_live_journal(rig.device.slots(AppLevel::kUser)).value();
    }
    return false;
  };
  ASSERT_TRUE(rig.run().is_ok());
  ASSERT_TRUE(seen.has_value());
  EXPECT_STREQ(seen->url, test::kUpdateUrl);
  EXPECT_STREQ(seen->validator, "\"v2\"");
  EXPECT_EQ(seen->total_size, new_image().size());
  EXPECT_GE(seen->committed_sectors, 2u);
  EXPECT_LE(seen->committed_sectors, 3u);
}

TEST(OtaJob, ResumesFromTheJournalAfterAPowerCut) {
  JobRig rig;
  // Cut the power at the 40th flash write of the job (well into the body), then reboot.
  host::PowerCutFlash cut(rig.device.flash(), 40);
  rig.device.attach(cut);
  {
    OtaJob job(rig.context());
    ASSERT_TRUE(job.start({test::kUpdateUrl, std::strlen(test::kUpdateUrl)}).is_ok());
    ASSERT_EQ(job.run().code(), Code::kPowerLost);
  }
  rig.device.attach(rig.device.flash());
  const Result<JournalRecord> record = read_live_journal(rig.device.slots(AppLevel::kUser));
  ASSERT_TRUE(record.is_ok()) << record.status().reason();
  ASSERT_GT(record->committed_sectors, 0u);
  rig.transport.requests.clear();
  OtaJob job(rig.context());
  ASSERT_TRUE(job.resume_from_journal().is_ok());
  EXPECT_STREQ(job.url(), test::kUpdateUrl);
  ASSERT_TRUE(job.run().is_ok()) << job.progress().error.reason();
  ASSERT_EQ(rig.transport.requests.size(), 1u);
  EXPECT_EQ(rig.transport.requests[0].range_start, record->committed_sectors * 4096);
  EXPECT_EQ(rig.transport.requests[0].if_range, "\"v2\"");
  EXPECT_TRUE(rig.selected_new());
  EXPECT_EQ(rig.booted_version(), "2.0.0");
}

TEST(OtaJob, ResumeWithoutAJournalIsNotFound) {
  JobRig rig;
  OtaJob job(rig.context());
  EXPECT_EQ(job.resume_from_journal().code(), Code::kNotFound);
  EXPECT_EQ(job.run().code(), Code::kBadState);
}

TEST(OtaJob, StartRefusesWhatItCannotKeep) {
  JobRig rig;
  OtaJob job(rig.context());
  const std::string long_url = "https://updates.example.com/" + std::string(480, 'a');
  EXPECT_EQ(job.start({long_url.data(), long_url.size()}).code(), Code::kUrlTooLong);
  EXPECT_EQ(job.start({"", 0}).code(), Code::kUrlMalformed);
  OtaJobContext incomplete = rig.context();
  incomplete.transport = nullptr;
  OtaJob bad(incomplete);
  EXPECT_EQ(bad.start({test::kUpdateUrl, std::strlen(test::kUpdateUrl)}).code(), Code::kInvalidArgument);
  // Checking the signature in place takes a whole signature sector of buffer.
  OtaJobContext small = rig.context();
  small.buffer = {rig.buffer.data(), 1024};
  OtaJob tiny(small);
  const Status in_place = tiny.start({test::kUpdateUrl, std::strlen(test::kUpdateUrl)});
  EXPECT_EQ(in_place.code(), Code::kInvalidArgument);
  EXPECT_STREQ(in_place.reason(),
               "OTA job buffer is smaller than 4 KiB, the signature sector it checks in place");
  // With the check elsewhere the buffer must still hold an image head.
  uint8_t sector[kSignatureSectorSize];
  InPlaceSignatureCheck elsewhere(rig.sha, rig.verifier, {sector, sizeof sector});
  OtaJobContext headless = rig.context();
  headless.buffer = {rig.buffer.data(), kImageHeadSize - 1};
  headless.signature_check = &elsewhere;
  OtaJob no_head(headless);
  const Status head = no_head.start({test::kUpdateUrl, std::strlen(test::kUpdateUrl)});
  EXPECT_EQ(head.code(), Code::kInvalidArgument);
  EXPECT_STREQ(head.reason(), "OTA job buffer is smaller than an image head (288 B)");
}

// A SignatureCheck that runs elsewhere (as the rv32 firmware's main loop does): counts its calls and checks
// in a sector buffer of its own.
class CountingCheck final : public SignatureCheck {
 public:
  CountingCheck(Sha256& sha256, SignatureVerifier& verifier) : in_place_(sha256, verifier, {sector_, 4096}) {}
  Status check(Flash& region, const TrustPolicy& policy, SignedImage& image) override {
    ++calls;
    region_size = region.size();
    return in_place_.check(region, policy, image);
  }
  int calls = 0;
  uint32_t region_size = 0;

 private:
  uint8_t sector_[kSignatureSectorSize] = {};
  InPlaceSignatureCheck in_place_;
};

// Runs the rig's job in a 1 KiB buffer with its signature checked by `check`.
Status run_with_check_elsewhere(JobRig& rig, CountingCheck& check) {
  rig.buffer.resize(1024);
  OtaJobContext c = rig.context();
  c.signature_check = &check;
  OtaJob job(c);
  PRIVOTA_TRY(job.start({test::kUpdateUrl, std::strlen(test::kUpdateUrl)}));
  const Status status = job.run();
  rig.last = job.progress();
  return status;
}

// With the signature checked elsewhere, the job works in a 1 KiB buffer: it downloads, hashes and selects
// as with 4 KiB, and hands the check exactly the bytes it received, once.
TEST(OtaJob, ASmallBufferWorksWithTheSignatureCheckedElsewhere) {
  JobRig rig;
  CountingCheck check(rig.sha, rig.verifier);
  ASSERT_TRUE(run_with_check_elsewhere(rig, check).is_ok()) << rig.last.error.reason();
  EXPECT_EQ(rig.last.state, JobState::kRebooting);
  EXPECT_EQ(check.calls, 1);
  EXPECT_EQ(check.region_size, new_image().size());
  EXPECT_TRUE(rig.selected_new());
  EXPECT_EQ(rig.booted_version(), "2.0.0");
}

// The check elsewhere is the one that judges: an image whose signature does not hold is refused through it
// and nothing is selected.
TEST(OtaJob, ASignatureCheckedElsewhereRefusesATamperedImage) {
  // A byte of the signature sector: the image itself hashes fine, only the check can refuse it.
  std::vector<uint8_t> tampered = new_image();
  tampered[tampered.size() - kSignatureSectorSize + 64] ^= 0x01;
  JobRig rig(tampered);
  CountingCheck check(rig.sha, rig.verifier);
  const Status status = run_with_check_elsewhere(rig, check);
  // The sector's CRC no longer matches: the check's own reason is the job's.
  EXPECT_EQ(status.code(), Code::kBadChecksum) << status.reason();
  EXPECT_EQ(rig.last.state, JobState::kFailed);
  EXPECT_EQ(check.calls, 1) << status.reason();
  EXPECT_FALSE(rig.selected_new());
  EXPECT_EQ(rig.booted_version(), "1.0.0");
}

TEST(OtaJob, StateNamesAreStable) {
  EXPECT_STREQ(job_state_name(JobState::kQueued), "queued");
  EXPECT_STREQ(job_state_name(JobState::kRebooting), "rebooting");
  EXPECT_STREQ(job_state_name(JobState::kCancelled), "cancelled");
}

// A fleet job names the image it wants: the verified image must carry its version, size and SHA-256, else
// the job fails before selecting anything and the running app stays.
struct ExpectationRow {
  const char* name;
  const char* version;
  int size_delta;     // added to the real size (0: the real size)
  bool wrong_sha256;  // flip a bit of the real digest
  Code expected;
};

const ExpectationRow kExpectationRows[] = {
    {"all match", "2.0.0", 0, false, Code::kOk},
    {"other version", "2.0.1", 0, false, Code::kInvalidArgument},
    {"other size", "2.0.0", 4096, false, Code::kBadLength},
    {"other digest", "2.0.0", 0, true, Code::kBadHash},
};

TEST(OtaJob, ChecksTheRequestersVersionSizeAndDigestBeforeSelecting) {
  for (const ExpectationRow& row : kExpectationRows) {
    SCOPED_TRACE(row.name);
    JobRig rig;
    const std::vector<uint8_t>& file = new_image();
    ImageExpectation expect;
    std::strcpy(expect.version, row.version);
    expect.size = static_cast<uint32_t>(static_cast<int>(file.size()) + row.size_delta);
    expect.have_sha256 = true;
    rig.sha.begin();
    rig.sha.update({file.data(), file.size()});
    rig.sha.finish(expect.sha256);
    if (row.wrong_sha256) expect.sha256[7] ^= 1;
    rig.expect = &expect;
    EXPECT_EQ(rig.run().code(), row.expected) << rig.last.error.reason();
    EXPECT_EQ(rig.selected_new(), row.expected == Code::kOk);
    EXPECT_EQ(rig.booted_version(), row.expected == Code::kOk ? "2.0.0" : "1.0.0");
  }
}

}  // namespace
}  // namespace privota
