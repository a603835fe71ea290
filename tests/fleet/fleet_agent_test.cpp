// The device's fleet agent against a real mosquitto: jobs in, status and outcomes out, exactly once across
// restarts (a restart here = a new agent over the same job store, as after a reboot or a power cut).
#include <gtest/gtest.h>

#include <functional>

#include "fleet_test_support.h"
#include "privota/host/fleet_agent.h"

namespace privota::test {
namespace {

using host::FleetAgent;
using host::FleetJob;
using host::FleetOutcome;

// The protected app as the agent sees it: records what it is asked to do.
class FakeDevice final : public host::FleetDevice {
 public:
  host::FleetRunningApps running_apps() override { return {{"1.0.0", 1, "valid"}, {"2.0.0", 0, "valid"}}; }
  std::string start_job(const FleetJob& job) override {
    started.push_back(job);
    return refusal;
  }
  void offer_job(const FleetJob& job) override { offered.push_back(job); }

  std::vector<FleetJob> started;
  std::vector<FleetJob> offered;
  std::string refusal;
};

class FleetAgentTest : public ::testing::Test {
 protected:
  FleetAgentTest() : fleet_({"dev-a"}), store_(store_dir_ / "job.json") {
    controller_ = fleet_.connect_controller();
    EXPECT_EQ(controller_->subscribe("privota/dev-a/status", 1, 2s), 1);
  }

  host::FleetConfig config() const {
    host::FleetConfig config;
    config.device_id = "dev-a";
    config.broker = fleet_.device_endpoint("dev-a");
    config.offer_again_s = 1;
    config.keepalive_s = 5;
    return config;
  }

  std::unique_ptr<FleetAgent> start_agent(host::FleetConfig config) {
    auto agent = std::make_unique<FleetAgent>(config, device_, store_);
    agent->start();
    return agent;
  }
  std::unique_ptr<FleetAgent> start_agent() { return start_agent(config()); }

  void publish_job(const std::string& document) {
    ASSERT_TRUE(controller_->publish("privota/dev-a/job", document, 1, true, 2s));
  }

  // Polls the agent until `done` or 10 s.
  static bool poll_until(FleetAgent& agent, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      agent.poll(20ms);
      if (done()) return true;
    }
    return false;
  }

  // The statuses the controller received, while polling the agent, until one satisfies `match` (or 10 s).
  std::optional<host::FleetStatus> wait_status(FleetAgent& agent,
                                               const std::function<bool(const host::FleetStatus&)>& match) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      agent.poll(20ms);
      while (auto message = controller_->next_message(0ms)) {
        const auto status = host::parse_fleet_status(message->payload);
        EXPECT_TRUE(status.has_value()) << message->payload;
        if (status) statuses_.push_back(*status);
        if (status && match(*status)) return status;
      }
    }
    return std::nullopt;
  }

  static std::function<bool(const host::FleetStatus&)> outcome_is(const std::string& id,
                                                                  FleetOutcome outcome) {
    return [=](const host::FleetStatus& s) {
      return s.last_job && s.last_job->job_id == id && s.last_job->outcome == outcome;
    };
  }

  size_t outcomes_seen(const std::string& id) const {
    size_t n = 0;
    for (const auto& s : statuses_)
      n += s.last_job && s.last_job->job_id == id;
    return n;
  }

  TestFleet fleet_;
  TempDir store_dir_;
  host::FileFleetJobStore store_;
  FakeDevice device_;
  std::unique_ptr<host::MqttClient> controller_;
  std::vector<host::FleetStatus> statuses_;
};

const std::string kJob =
    R"({"v":1,"job_id":"r1-dev-a","level":"user","url":"https://127.0.0.1:8443/u.bin","version":"2.1.0"})";

TEST_F(FleetAgentTest, RunsAJobAndReportsSucceededOnlyAfterTheRebootConfirmed) {
  auto agent = start_agent();
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  EXPECT_EQ(device_.started[0].url, "https://127.0.0.1:8443/u.bin");
  EXPECT_EQ(device_.started[0].version, "2.1.0");
  ASSERT_TRUE(wait_status(*agent, [](const auto& s) {
    return s.device == "dev-a" && s.job && s.job->id == "r1-dev-a" &&
           s.job->step == host::FleetJobStep::kRunning;
  }));
  // Progress goes out on its own topic, for people watching.
  auto watcher = fleet_.connect_controller();
  ASSERT_EQ(watcher->subscribe("privota/dev-a/progress", 0, 2s), 0);
  agent->job_progress("r1-dev-a", "download", 4096, 4096);
  const auto progress = watcher->next_message(2s);
  ASSERT_TRUE(progress.has_value());
  const auto parsed = host::parse_fleet_progress(progress->payload);
  ASSERT_TRUE(parsed.has_value()) << progress->payload;
  EXPECT_EQ(parsed->job_id, "r1-dev-a");
  EXPECT_EQ(parsed->bytes, 4096u);
  agent->job_activated("r1-dev-a");
  agent.reset();  // the reboot into the new app

  agent = start_agent();
  EXPECT_EQ(agent->record().step, host::FleetJobStep::kAwaitingConfirm);
  ASSERT_TRUE(wait_status(
      *agent, [](const auto& s) { return s.job && s.job->step == host::FleetJobStep::kAwaitingConfirm; }));
  EXPECT_EQ(outcomes_seen("r1-dev-a"), 0u);
  agent->job_finished("r1-dev-a", FleetOutcome::kSucceeded, "");
  ASSERT_TRUE(wait_status(*agent, outcome_is("r1-dev-a", FleetOutcome::kSucceeded)));
  ASSERT_TRUE(poll_until(*agent, [&] { return agent->settled(); }));
  EXPECT_TRUE(agent->record().unreported.empty());
  agent.reset();

  // Rebooted again: the retained job arrives again and is not run a second time.
  agent = start_agent();
  ASSERT_TRUE(wait_status(*agent, [](const auto& s) { return !s.job; }));
  for (int i = 0; i < 20; ++i)
    agent->poll(20ms);
  EXPECT_EQ(device_.started.size(), 1u);
  EXPECT_TRUE(agent->record().unreported.empty());
}

TEST_F(FleetAgentTest, ReportsAnOutcomeThatEndedBeforeAPowerCutAfterTheReboot) {
  auto agent = start_agent();
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  agent->job_finished("r1-dev-a", FleetOutcome::kRolledBack, "the trial app crashed");
  agent.reset();  // power cut before the status went out
  EXPECT_EQ(store_.load().unreported.size(), 1u);

  agent = start_agent();
  const auto status = wait_status(*agent, outcome_is("r1-dev-a", FleetOutcome::kRolledBack));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->last_job->reason, "the trial app crashed");
  ASSERT_TRUE(poll_until(*agent, [&] { return agent->settled(); }));
  EXPECT_TRUE(store_.load().unreported.empty());
  EXPECT_EQ(device_.started.size(), 1u);
}

TEST_F(FleetAgentTest, ReportsAnOutcomeReachedWhileTheBrokerWasDown) {
  auto agent = start_agent();
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  controller_.reset();
  fleet_.restart_broker(
      [&] { agent->job_finished("r1-dev-a", FleetOutcome::kFailed, "signature does not verify"); });
  controller_ = fleet_.connect_controller();
  ASSERT_EQ(controller_->subscribe("privota/dev-a/status", 1, 2s), 1);
  // The retained status (from the broker's persistence, or the agent's reconnect) ends up carrying it.
  const auto status = wait_status(*agent, outcome_is("r1-dev-a", FleetOutcome::kFailed));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->last_job->reason, "signature does not verify");
  ASSERT_TRUE(poll_until(*agent, [&] { return agent->settled(); }));
}

TEST_F(FleetAgentTest, AnOfflineDeviceGetsItsJobWhenItComesBack) {
  publish_job(kJob);  // the device is off
  std::unique_ptr<FleetAgent> agent;
  // It powers on while the broker is down too, and keeps trying until the broker is back.
  fleet_.restart_broker([&] { agent = start_agent(); });
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  EXPECT_EQ(device_.started[0].id, "r1-dev-a");
  EXPECT_TRUE(agent->connected());
}

TEST_F(FleetAgentTest, RejectsBadDocumentsWithTheReason) {
  auto agent = start_agent();
  publish_job(R"({"v":1,"job_id":"bad-1","level":"kernel","url":"https://127.0.0.1/u.bin","version":"1"})");
  auto status = wait_status(*agent, outcome_is("bad-1", FleetOutcome::kRejected));
  ASSERT_TRUE(status);
  EXPECT_NE(status->last_job->reason.find("\"level\""), std::string::npos) << status->last_job->reason;
  publish_job(
      R"({"v":1,"job_id":"bad-2","level":"user","url":"https://127.0.0.1/u.bin","version":"1","x":1})");
  status = wait_status(*agent, outcome_is("bad-2", FleetOutcome::kRejected));
  ASSERT_TRUE(status);
  EXPECT_NE(status->last_job->reason.find("unknown field \"x\""), std::string::npos);
  EXPECT_TRUE(device_.started.empty());
}

TEST_F(FleetAgentTest, RejectsAJobTheDeviceRefusesWithItsReason) {
  device_.refusal = "the URL's host 10.0.0.1 is not in the device's allowed_hosts";
  auto agent = start_agent();
  publish_job(kJob);
  const auto status = wait_status(*agent, outcome_is("r1-dev-a", FleetOutcome::kRejected));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->last_job->reason, device_.refusal);
  EXPECT_FALSE(agent->record().job.has_value());
}

TEST_F(FleetAgentTest, RejectsASecondJobWhileBusy) {
  auto agent = start_agent();
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  publish_job(
      R"({"v":1,"job_id":"r2-dev-a","level":"protected","url":"https://127.0.0.1/p.bin","version":"9"})");
  const auto status = wait_status(*agent, outcome_is("r2-dev-a", FleetOutcome::kRejected));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->last_job->reason, "busy with job r1-dev-a");
  EXPECT_EQ(agent->record().job->id, "r1-dev-a");
  EXPECT_EQ(device_.started.size(), 1u);
}

TEST_F(FleetAgentTest, OffersUserJobsToTheUserAppWhichMayDeferThenAccept) {
  host::FleetConfig with_consent = config();
  with_consent.user_consent = true;
  auto agent = start_agent(with_consent);
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.offered.size() == 1; }));
  EXPECT_TRUE(device_.started.empty());
  agent->answer_offer("r1-dev-a", host::FleetConsent::kDefer);
  ASSERT_TRUE(wait_status(
      *agent, [](const auto& s) { return s.job && s.job->step == host::FleetJobStep::kDeferred; }));
  // offer_again_s = 1: offered again, by itself.
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.offered.size() == 2; }));
  agent->answer_offer("r1-dev-a", host::FleetConsent::kAccept);
  EXPECT_EQ(device_.started.size(), 1u);
  EXPECT_EQ(agent->record().step, host::FleetJobStep::kRunning);
}

TEST_F(FleetAgentTest, NeverOffersProtectedJobs) {
  host::FleetConfig with_consent = config();
  with_consent.user_consent = true;
  auto agent = start_agent(with_consent);
  publish_job(
      R"({"v":1,"job_id":"p1-dev-a","level":"protected","url":"https://127.0.0.1/p.bin","version":"9"})");
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.started.size() == 1; }));
  EXPECT_TRUE(device_.offered.empty());
}

TEST_F(FleetAgentTest, CancelsAJobNotYetStarted) {
  host::FleetConfig with_consent = config();
  with_consent.user_consent = true;
  auto agent = start_agent(with_consent);
  publish_job(kJob);
  ASSERT_TRUE(poll_until(*agent, [&] { return device_.offered.size() == 1; }));
  publish_job(host::fleet_cancel_document("r1-dev-a"));
  ASSERT_TRUE(wait_status(*agent, outcome_is("r1-dev-a", FleetOutcome::kCanceled)));
  agent->answer_offer("r1-dev-a", host::FleetConsent::kAccept);  // too late: nothing starts
  EXPECT_TRUE(device_.started.empty());
}

}  // namespace
}  // namespace privota::test
