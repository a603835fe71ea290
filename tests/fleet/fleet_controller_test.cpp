// The rollout controller (`privota fleet rollout|resume|status|cancel|devices`) against a real mosquitto and
// fake devices: MQTT clients in the test that answer each job with a scripted outcome.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "fleet_test_support.h"
#include "privota/host/fleet_job.h"
#include "privota/host/fleet_status.h"

namespace privota::test {
namespace {

using host::FleetOutcome;

// Devices that answer jobs: each reports the scripted outcome for every job it receives (or stays silent
// while `hold` is set), and counts the job documents it was sent.
class FakeDevices {
 public:
  FakeDevices(const TestFleet& fleet, const std::vector<std::string>& ids, FleetOutcome outcome)
      : outcome_(outcome) {
    for (const std::string& id : ids) {
      auto client = fleet.connect_device(id);
      EXPECT_EQ(client->subscribe("privota/" + id + "/job", 1, 2s), 1);
      publish_status(*client, id, std::nullopt);
      connection_[id] = client->connections();
      clients_[id] = std::move(client);
    }
    thread_ = std::thread([this] { run(); });
  }
  ~FakeDevices() {
    stop_ = true;
    thread_.join();
  }

  std::map<std::string, std::vector<std::string>> jobs_received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::atomic<bool> hold{false};
  std::set<std::string> deferring;  // these devices' user apps defer every job (set before the jobs arrive)

 private:
  void publish_status(host::MqttClient& client, const std::string& id,
                      std::optional<host::FleetJobResult> last) {
    const host::FleetStatus status{id, {{"1.0.0", 1, "valid"}, {"1.0.0", 0, "valid"}}, std::nullopt, last};
    EXPECT_TRUE(
        client.publish("privota/" + id + "/status", host::fleet_status_document(status), 1, true, 2s));
  }

  // The status a device with a deferred job keeps: the job in hand, no outcome.
  void defer(host::MqttClient& client, const std::string& id, const std::string& job) {
    const host::FleetStatus status{
        id,
        {{"1.0.0", 1, "valid"}, {"1.0.0", 0, "valid"}},
        host::FleetStatus::Job{job, host::FleetLevel::kUser, host::FleetJobStep::kDeferred},
        std::nullopt};
    EXPECT_TRUE(
        client.publish("privota/" + id + "/status", host::fleet_status_document(status), 1, true, 2s));
  }

  void run() {
    std::map<std::string, std::vector<std::string>> pending;  // held jobs
    while (!stop_) {
      for (auto& [id, client] : clients_) {
        if (client->connected() && client->connections() != connection_[id]) {
          connection_[id] = client->connections();  // a clean session after a reconnect: subscribe again
          client->subscribe("privota/" + id + "/job", 1, 2s);
        }
        while (auto message = client->next_message(0ms)) {
          const auto parsed = host::parse_fleet_job_message(message->payload);
          if (parsed.kind != host::FleetJobMessage::Kind::kJob) continue;
          {
            std::lock_guard lock(mutex_);
            received_[id].push_back(parsed.job.id);
          }
          pending[id].push_back(parsed.job.id);
        }
        if (hold || !client->connected()) continue;
        for (const std::string& job : pending[id]) {
          if (deferring.count(id) != 0) {
            defer(*client, id, job);
            continue;
          }
          publish_status(
              *client, id,
              host::FleetJobResult{job, outcome_, outcome_ == FleetOutcome::kSucceeded ? "" : "it broke"});
        }
        pending[id].clear();
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  FleetOutcome outcome_;
  std::map<std::string, std::unique_ptr<host::MqttClient>> clients_;
  std::map<std::string, uint64_t> connection_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> received_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string fmt_id(int i) {
  return "d" + std::to_string(i);
}

std::vector<std::string> device_ids(int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i)
    ids.push_back(fmt_id(i));
  return ids;
}

std::string cli(const TestFleet& fleet, const std::string& args) {
  return std::string(PRIVOTA_CLI) + " fleet " + args + " --fleet " + fleet.dir().string() + " 2>&1";
}

std::string rollout_id(const std::string& output) {
  const size_t at = output.find("rollout ");
  return at == std::string::npos ? "" : output.substr(at + 8, 8);
}

nlohmann::json status_json(const TestFleet& fleet, const std::string& id) {
  const CommandResult result = run_command(cli(fleet, "status " + id + " --json"));
  EXPECT_EQ(result.exit_code, 0) << result.out;
  return nlohmann::json::parse(result.out, nullptr, false);
}

constexpr const char* kRollout = "rollout --level user --url https://127.0.0.1:8443/app.bin --version 2.0.0";

TEST(FleetController, AGoodRolloutCompletesWaveByWave) {
  const auto ids = device_ids(6);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  const CommandResult result = run_command(
      cli(fleet, std::string(kRollout) + " --devices all --waves 20%,50%,100% --wave-timeout 20"));
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("to 6 devices in 3 waves"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("COMPLETED"), std::string::npos) << result.out;
  const auto received = devices.jobs_received();
  for (const std::string& id : ids) {
    ASSERT_EQ(received.count(id), 1u) << id;
    EXPECT_EQ(received.at(id).size(), 1u) << id;
  }
  const auto status = status_json(fleet, rollout_id(result.out));
  EXPECT_EQ(status["state"], "COMPLETED");
  ASSERT_EQ(status["jobs"].size(), 6u);
  for (const auto& job : status["jobs"])
    EXPECT_EQ(job["state"], "SUCCEEDED") << job.dump();

  // Every job's retained document is gone once its outcome is in.
  auto late = std::make_unique<host::MqttClient>("d0", fleet.device_endpoint("d0"));
  ASSERT_EQ(late->connect(5s), "");
  ASSERT_EQ(late->subscribe("privota/d0/job", 1, 2s), 1);
  const auto retained = late->next_message(500ms);
  EXPECT_FALSE(retained.has_value()) << retained->payload;

  const CommandResult listed = run_command(cli(fleet, "devices --json"));
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  const auto table = nlohmann::json::parse(listed.out);
  ASSERT_EQ(table.size(), 6u);
  EXPECT_EQ(table[0]["last_job"]["outcome"], "SUCCEEDED");
  EXPECT_EQ(table[0]["apps"]["user"]["version"], "1.0.0");
}

TEST(FleetController, ABadRolloutStopsAfterTheFirstWaveAndTheRestGetNoJob) {
  const auto ids = device_ids(20);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kRolledBack);
  const CommandResult result =
      run_command(cli(fleet, std::string(kRollout) +
                                 " --devices all --waves 5%,100% --max-failure-rate 20% --wave-timeout 20"));
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("ABORTED: wave 1: 1 of 1 failed"), std::string::npos) << result.out;
  std::this_thread::sleep_for(300ms);  // a stray job would have arrived by now
  const auto received = devices.jobs_received();
  ASSERT_EQ(received.size(), 1u);  // 5% of 20
  EXPECT_EQ(received.begin()->second.size(), 1u);
  const auto status = status_json(fleet, rollout_id(result.out));
  EXPECT_EQ(status["state"], "ABORTED");
  EXPECT_EQ(status["jobs"].size(), 1u);
  EXPECT_EQ(status["jobs"][0]["state"], "ROLLED_BACK");
  EXPECT_EQ(status["jobs"][0]["reason"], "it broke");
}

TEST(FleetController, ADeferredJobCountsNeitherWayAndStaysOpen) {
  const auto ids = device_ids(2);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  devices.deferring = {"d0", "d1"};
  // Both devices defer: with a 0% limit the rollout still goes on, since deferring is no failure.
  const CommandResult result =
      run_command(cli(fleet, std::string(kRollout) +
                                 " --devices all --waves 50%,100% --max-failure-rate 0 --wave-timeout 1"));
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("DEFERRED by the user app"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("0 failed, 1 deferred"), std::string::npos) << result.out;
  const auto status = status_json(fleet, rollout_id(result.out));
  ASSERT_EQ(status["jobs"].size(), 2u);
  for (const auto& job : status["jobs"])
    EXPECT_EQ(job["state"], "deferred") << job.dump();
}

TEST(FleetController, ASilentWaveTimesOutAsFailed) {
  const auto ids = device_ids(2);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  devices.hold = true;
  const CommandResult result =
      run_command(cli(fleet, std::string(kRollout) +
                                 " --devices all --waves 50%,100% --max-failure-rate 0 --wave-timeout 1"));
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("ABORTED: wave 1: 1 of 1 failed"), std::string::npos) << result.out;
}

TEST(FleetController, ARestartedControllerRepeatsNoJob) {
  const auto ids = device_ids(4);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  devices.hold = true;  // the first wave's devices take their time...
  // ...and the controller is killed while it waits for them.
  const CommandResult first =
      run_command("timeout -s KILL 4 " + cli(fleet, std::string(kRollout) + " --devices all --waves 50%,100% "
                                                                            "--wave-timeout 60"));
  EXPECT_NE(first.exit_code, 0) << first.out;
  const std::string id = rollout_id(first.out);
  ASSERT_EQ(id.size(), 8u) << first.out;
  auto status = status_json(fleet, id);
  EXPECT_EQ(status["state"], "RUNNING");
  ASSERT_EQ(status["jobs"].size(), 2u);
  EXPECT_EQ(devices.jobs_received().size(), 2u);

  devices.hold = false;  // they finish while no controller runs; their retained statuses keep the outcomes
  std::this_thread::sleep_for(300ms);
  const CommandResult resumed = run_command(cli(fleet, "resume " + id));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("COMPLETED"), std::string::npos) << resumed.out;
  const auto received = devices.jobs_received();
  ASSERT_EQ(received.size(), 4u);
  for (const auto& [device, jobs] : received) {
    ASSERT_EQ(jobs.size(), 1u) << device;
    EXPECT_EQ(jobs[0], id + "-" + device);
  }
  status = status_json(fleet, id);
  EXPECT_EQ(status["state"], "COMPLETED");
  for (const auto& job : status["jobs"])
    EXPECT_EQ(job["state"], "SUCCEEDED") << job.dump();
}

TEST(FleetController, ARolloutSurvivesABrokerRestart) {
  const auto ids = device_ids(2);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  devices.hold = true;
  auto rollout = std::async(std::launch::async, [&] {
    return run_command(
        cli(fleet, std::string(kRollout) + " --devices all --waves 50%,100% --wave-timeout 60"));
  });
  for (int i = 0; i < 100 && devices.jobs_received().empty(); ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_EQ(devices.jobs_received().size(), 1u);
  fleet.restart_broker([] {});
  devices.hold = false;
  const CommandResult result = rollout.get();
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("COMPLETED"), std::string::npos) << result.out;
  // The broker sends a retained job again after a reconnect; it is still the one job, by its id.
  for (const auto& [device, jobs] : devices.jobs_received())
    EXPECT_EQ(std::set<std::string>(jobs.begin(), jobs.end()).size(), 1u) << device;
}

TEST(FleetController, CancelStopsARolloutAndCancelsJobsNotStarted) {
  const auto ids = device_ids(2);
  TestFleet fleet(ids);
  FakeDevices devices(fleet, ids, FleetOutcome::kSucceeded);
  devices.hold = true;
  auto rollout = std::async(std::launch::async, [&] {
    return run_command(
        cli(fleet, std::string(kRollout) + " --devices all --waves 50%,100% --wave-timeout 60"));
  });
  std::string id;
  for (int i = 0; i < 100 && devices.jobs_received().empty(); ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_EQ(devices.jobs_received().size(), 1u);
  const std::string job = devices.jobs_received().begin()->second[0];
  id = job.substr(0, 8);
  const CommandResult canceled = run_command(cli(fleet, "cancel " + id));
  EXPECT_EQ(canceled.exit_code, 0) << canceled.out;
  const CommandResult result = rollout.get();
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("CANCELED: canceled by the operator"), std::string::npos) << result.out;
  EXPECT_EQ(devices.jobs_received().size(), 1u);
  const CommandResult again = run_command(cli(fleet, "cancel " + id));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("already CANCELED"), std::string::npos) << again.out;
}

TEST(FleetController, RefusesBadRolloutOptions) {
  TestFleet fleet({"d0"});
  const struct {
    std::string args;
    std::string error;
  } cases[] = {
      {" --waves 50%,20%,100%", "must grow"},
      {" --waves 10%,50%", "must end at 100%"},
      {" --waves ten", "must be a percentage"},
      {" --max-failure-rate 150%", "0% to 100%"},
      {" --devices /nonexistent", "cannot read the devices file"},
      {" --sha256 xyz", "\"sha256\""},
  };
  for (const auto& c : cases) {
    const CommandResult result = run_command(cli(fleet, std::string(kRollout) + c.args));
    EXPECT_EQ(result.exit_code, 1) << c.args << "\n" << result.out;
    EXPECT_NE(result.out.find(c.error), std::string::npos) << c.args << "\n" << result.out;
  }
}

}  // namespace
}  // namespace privota::test
