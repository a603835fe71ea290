// Job documents and the agent's power-safe record, without a broker.
#include <gtest/gtest.h>

#include "privota/host/fleet_job.h"
#include "privota/host/fleet_job_store.h"
#include "privota/host/fleet_status.h"
#include "test_support.h"

namespace privota::test {
namespace {

using host::FleetJobMessage;
using Kind = FleetJobMessage::Kind;

const std::string kSha(64, 'a');

TEST(FleetJobDocument, ParsesAFullJob) {
  const auto message = host::parse_fleet_job_message(
      R"({"v":1,"job_id":"r1-dev.a_1","level":"protected","url":"https://127.0.0.1:8443/p.bin",)"
      R"("version":"2.0.0","size":4096,"sha256":")" +
      kSha + R"("})");
  ASSERT_EQ(message.kind, Kind::kJob) << message.reason;
  EXPECT_EQ(message.job.id, "r1-dev.a_1");
  EXPECT_EQ(message.job.level, host::FleetLevel::kProtected);
  EXPECT_EQ(message.job.url, "https://127.0.0.1:8443/p.bin");
  EXPECT_EQ(message.job.version, "2.0.0");
  EXPECT_EQ(message.job.size, 4096u);
  EXPECT_EQ(message.job.sha256, kSha);
  EXPECT_EQ(host::parse_fleet_job_message(host::fleet_job_document(message.job)).job, message.job);
}

TEST(FleetJobDocument, ParsesACancel) {
  const auto message = host::parse_fleet_job_message(R"({"v":1,"cancel":"r1-dev"})");
  EXPECT_EQ(message.kind, Kind::kCancel);
  EXPECT_EQ(message.job_id, "r1-dev");
}

TEST(FleetJobDocument, RefusesBadDocumentsNamingTheField) {
  const std::string base = R"("v":1,"job_id":"j1","level":"user","url":"https://h/a.bin","version":"1.0")";
  const struct {
    std::string doc;
    std::string reason;
    std::string id;
  } cases[] = {
      {"not json", "not a JSON object", ""},
      {"[1]", "not a JSON object", ""},
      {R"({"job_id":"j1","level":"user","url":"u","version":"1"})", "\"v\" must be 1", "j1"},
      {R"({"v":2,"job_id":"j1","level":"user","url":"u","version":"1"})", "\"v\" must be 1", "j1"},
      {R"({"v":1,"level":"user","url":"u","version":"1"})", "no \"job_id\"", ""},
      {R"({"v":1,"job_id":"a/b","level":"user","url":"u","version":"1"})", "\"job_id\" may hold only", ""},
      {R"({"v":1,"job_id":"j1","level":"kernel","url":"u","version":"1"})", "\"level\"", "j1"},
      {R"({"v":1,"job_id":"j1","level":"user","version":"1"})", "no \"url\"", "j1"},
      {R"({"v":1,"job_id":"j1","level":"user","url":7,"version":"1"})", "\"url\" must be a string", "j1"},
      {R"({"v":1,"job_id":"j1","level":"user","url":"u","version":""})", "\"version\" must be 1 to 31", "j1"},
      {R"({"v":1,"job_id":"j1","level":"user","url":"u","version":")" + std::string(32, '1') + "\"}",
       "\"version\" must be 1 to 31", "j1"},
      {R"({"v":1,"job_id":"j1","level":"user","url":"a b","version":"1"})", "\"url\" holds a space", "j1"},
      {"{" + base + R"(,"size":0})", "\"size\"", "j1"},
      {"{" + base + R"(,"size":-5})", "\"size\"", "j1"},
      {"{" + base + R"(,"size":"9"})", "\"size\"", "j1"},
      {"{" + base + R"(,"sha256":"abc"})", "\"sha256\"", "j1"},
      {"{" + base + R"(,"sha256":")" + std::string(64, 'A') + "\"}", "\"sha256\"", "j1"},
      {"{" + base + R"(,"force":true})", "unknown field \"force\"", "j1"},
      {R"({"v":1,"cancel":5})", "\"cancel\" must be a job id", ""},
  };
  for (const auto& c : cases) {
    const auto message = host::parse_fleet_job_message(c.doc);
    EXPECT_EQ(message.kind, Kind::kInvalid) << c.doc;
    EXPECT_NE(message.reason.find(c.reason), std::string::npos) << c.doc << " -> " << message.reason;
    EXPECT_EQ(message.job_id, c.id) << c.doc;
  }
}

host::FleetJobRecord sample_record() {
  host::FleetJobRecord record;
  record.job = host::FleetJob{"r2-d1", host::FleetLevel::kUser, "https://127.0.0.1/u.bin", "3.1", 10, kSha};
  record.step = host::FleetJobStep::kAwaitingConfirm;
  record.last = host::FleetJobResult{"r1-d1", host::FleetOutcome::kRolledBack, "the trial app crashed"};
  record.unreported = {*record.last};
  return record;
}

TEST(FleetJobRecord, RoundTripsThroughItsEncoding) {
  const host::FleetJobRecord record = sample_record();
  EXPECT_EQ(host::FleetJobRecord::from_json(record.to_json()), record);
  EXPECT_LE(record.to_json().size(), host::FleetJobRecord::kMaxEncodedSize);
  EXPECT_TRUE(record.knows("r2-d1"));
  EXPECT_TRUE(record.knows("r1-d1"));
  EXPECT_FALSE(record.knows("r3-d1"));
}

TEST(FileFleetJobStore, KeepsTheLastRecordAndTreatsATornFileAsEmpty) {
  TempDir dir;
  host::FileFleetJobStore store(dir / "job.json");
  EXPECT_EQ(store.load(), host::FleetJobRecord{});
  ASSERT_TRUE(store.save(sample_record()));
  EXPECT_EQ(host::FileFleetJobStore(dir / "job.json").load(), sample_record());
  const std::string text = sample_record().to_json();
  write_text(dir / "job.json", text.substr(0, text.size() / 2));
  EXPECT_EQ(store.load(), host::FleetJobRecord{});
}

TEST(FleetStatusDocument, RoundTrips) {
  host::FleetStatus status{
      "dev-1",
      {{"1.0.0", 1, "valid"}, {"2.0.0", 0, "pending_verify"}},
      host::FleetStatus::Job{"r1-dev-1", host::FleetLevel::kUser, host::FleetJobStep::kDeferred},
      host::FleetJobResult{"r0-dev-1", host::FleetOutcome::kFailed, "bad signature"}};
  EXPECT_EQ(host::parse_fleet_status(host::fleet_status_document(status)), status);
  EXPECT_FALSE(host::parse_fleet_status(R"({"v":1,"device":"x"})").has_value());
}

}  // namespace
}  // namespace privota::test
