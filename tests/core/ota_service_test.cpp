// The OTA service's rules: one job at a time, owned by the level that asked, BUSY answers that tell only the
// owner the id, resume from the journal, and a device reboot that suspends rather than cancels.
#include "privota/ota_service.h"

#include <gtest/gtest.h>

#include "device_fakes.h"
#include "device_fixture.h"
#include "privota/ota_journal.h"

namespace privota {
namespace {

using test::FakeJobRunner;
using test::text;

constexpr const char* kUrl = "https://updates.example.com/user-v2.bin";

class OtaServiceTest : public ::testing::Test {
 protected:
  test::TestUrlPolicy urls_;
  FakeJobRunner runner_;
  OtaService service_{runner_, urls_.policy};
  AppDescriptor running_;
};

TEST_F(OtaServiceTest, StartsAJobForTheLevelThatAsked) {
  std::strcpy(running_.version, "1.0.0");
  const Result<uint32_t> id = service_.start(AppLevel::kUser, text(kUrl), 1, &running_);
  ASSERT_TRUE(id.is_ok()) << id.status().reason();
  ASSERT_EQ(runner_.requests.size(), 1u);
  const JobRequest& r = runner_.requests[0];
  EXPECT_EQ(r.id, id.value());
  EXPECT_EQ(r.level, AppLevel::kUser);
  EXPECT_STREQ(r.url, kUrl);
  EXPECT_EQ(r.running_slot, 1u);
  EXPECT_TRUE(r.have_running);
  EXPECT_STREQ(r.running.version, "1.0.0");
  EXPECT_TRUE(service_.running());
}

TEST_F(OtaServiceTest, RefusesAUrlOutsideThePolicyBeforeAnythingStarts) {
  const Result<uint32_t> id =
      service_.start(AppLevel::kUser, text("https://evil.example.com/x.bin"), 0, nullptr);
  EXPECT_EQ(id.status().code(), Code::kUrlHostNotAllowed);
  EXPECT_TRUE(runner_.requests.empty());
  EXPECT_FALSE(service_.running());
}

TEST_F(OtaServiceTest, SecondStartIsBusyWithTheIdOnlyForItsOwner) {
  const uint32_t owner_job = service_.start(AppLevel::kProtected, text(kUrl), 0, nullptr).value();
  const Result<uint32_t> user = service_.start(AppLevel::kUser, text(kUrl), 0, nullptr);
  EXPECT_EQ(user.status().code(), Code::kBusy);
  EXPECT_EQ(user.status().detail(), 0u) << "a user app must not learn the owner's job id";
  const Result<uint32_t> owner = service_.start(AppLevel::kProtected, text(kUrl), 0, nullptr);
  EXPECT_EQ(owner.status().code(), Code::kBusy);
  EXPECT_EQ(owner.status().detail(), owner_job);
  EXPECT_EQ(runner_.requests.size(), 1u);
}

TEST_F(OtaServiceTest, AnotherLevelsJobIsNotFound) {
  const uint32_t id = service_.start(AppLevel::kProtected, text(kUrl), 0, nullptr).value();
  EXPECT_EQ(service_.status(AppLevel::kUser, id).status().code(), Code::kNotFound);
  EXPECT_EQ(service_.cancel(AppLevel::kUser, id).code(), Code::kNotFound);
  EXPECT_TRUE(runner_.stops.empty()) << "the user app stopped the owner's job";
  service_.cancel_level(AppLevel::kUser);
  EXPECT_TRUE(runner_.stops.empty());
  EXPECT_TRUE(service_.status(AppLevel::kProtected, id).is_ok());
}

TEST_F(OtaServiceTest, StatusFollowsTheRunnerUntilTheEnd) {
  const uint32_t id = service_.start(AppLevel::kUser, text(kUrl), 0, nullptr).value();
  runner_.current.state = JobState::kDownloading;
  runner_.current.bytes_done = 4096;
  Result<JobView> view = service_.status(AppLevel::kUser, id);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->progress.state, JobState::kDownloading);
  EXPECT_EQ(view->progress.bytes_done, 4096u);
  JobProgress last = runner_.current;
  last.state = JobState::kDownloading;
  EXPECT_EQ(service_.on_job_finished(Status::error(Code::kHttpStatus, "404", 404), last),
            SupervisorEventKind::kJobEnded);
  runner_.current.bytes_done = 1;  // a finished job no longer asks the runner
  view = service_.status(AppLevel::kUser, id);
  EXPECT_EQ(view->progress.state, JobState::kFailed);
  EXPECT_EQ(view->progress.error.code(), Code::kHttpStatus);
  EXPECT_EQ(view->progress.bytes_done, 4096u);
  EXPECT_TRUE(view->finished);
  EXPECT_EQ(service_.cancel(AppLevel::kUser, id).code(), Code::kBadState);
  EXPECT_EQ(service_.status(AppLevel::kUser, id + 1).status().code(), Code::kNotFound);
}

TEST_F(OtaServiceTest, CancelByTheOwnerClosesTheJournal) {
  const uint32_t id = service_.start(AppLevel::kUser, text(kUrl), 0, nullptr).value();
  EXPECT_TRUE(service_.cancel(AppLevel::kUser, id).is_ok());
  ASSERT_EQ(runner_.stops.size(), 1u);
  EXPECT_FALSE(runner_.stops[0]);
}

TEST_F(OtaServiceTest, ARebootSuspendsTheJobWithItsJournalLive) {
  (void)service_.start(AppLevel::kProtected, text(kUrl), 0, nullptr);
  service_.suspend();
  ASSERT_EQ(runner_.stops.size(), 1u);
  EXPECT_TRUE(runner_.stops[0]);
}

TEST_F(OtaServiceTest, ActivationMeansRebootAndNoNewJob) {
  const uint32_t id = service_.start(AppLevel::kUser, text(kUrl), 0, nullptr).value();
  JobProgress last;
  last.state = JobState::kRebooting;
  EXPECT_EQ(service_.on_job_finished(Status::ok(), last), SupervisorEventKind::kJobActivated);
  EXPECT_TRUE(service_.activated());
  const Result<uint32_t> again = service_.start(AppLevel::kUser, text(kUrl), 0, nullptr);
  EXPECT_EQ(again.status().code(), Code::kBusy);
  EXPECT_EQ(again.status().detail(), id);
  EXPECT_EQ(service_.start(AppLevel::kProtected, text(kUrl), 0, nullptr).status().detail(), 0u);
}

TEST_F(OtaServiceTest, ARefusingRunnerStartsNothing) {
  runner_.start_status = Status::error(Code::kIoError, "no thread");
  EXPECT_EQ(service_.start(AppLevel::kUser, text(kUrl), 0, nullptr).status().code(), Code::kIoError);
  EXPECT_FALSE(service_.running());
  EXPECT_FALSE(service_.have_job());
}

TEST_F(OtaServiceTest, ResumesTheLevelsLiveJournal) {
  test::Device device;
  AppSlots& slots = device.slots(AppLevel::kUser);
  EXPECT_EQ(service_.resume(slots, AppLevel::kUser, 0, nullptr).status().code(), Code::kNotFound);
  JournalRecord record;
  std::strcpy(record.url, kUrl);
  record.url_len = static_cast<uint16_t>(std::strlen(kUrl));
  record.total_size = 8192;
  ASSERT_TRUE(open_journal(slots, 0, record).is_ok());
  const Result<uint32_t> id = service_.resume(slots, AppLevel::kUser, 0, nullptr);
  ASSERT_TRUE(id.is_ok()) << id.status().reason();
  ASSERT_EQ(runner_.requests.size(), 1u);
  EXPECT_STREQ(runner_.requests[0].url, "") << "an empty URL tells the runner to take over the journal";
}

TEST_F(OtaServiceTest, ResumeJudgesTheJournalsUrlAgain) {
  test::Device device;
  AppSlots& slots = device.slots(AppLevel::kUser);
  JournalRecord record;
  std::strcpy(record.url, "https://old-server.example.com/v2.bin");
  record.url_len = static_cast<uint16_t>(std::strlen(record.url));
  ASSERT_TRUE(open_journal(slots, 0, record).is_ok());
  EXPECT_EQ(service_.resume(slots, AppLevel::kUser, 0, nullptr).status().code(), Code::kUrlHostNotAllowed);
  EXPECT_TRUE(runner_.requests.empty());
}

}  // namespace
}  // namespace privota
