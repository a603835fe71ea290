// privota fleet: the fleet's identities and broker configuration, and the rollout controller (docs/fleet.md).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "commands.h"
#include "fleet_broker_config.h"
#include "fleet_ca.h"
#include "fleet_controller.h"
#include "fleet_device_identity.h"
#include "fleet_directory.h"
#include "fleet_waves.h"
#include "privota/host/fleet_status.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

constexpr const char* kFleetHelp = "the fleet directory (default ./fleet)";

void add_ca_new(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet";
    uint16_t port = tools::kDefaultBrokerPort;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* ca = group.add_subcommand("ca", "The fleet CA: new");
  ca->require_subcommand(1);
  CLI::App* cmd = ca->add_subcommand(
      "new", "Start a fleet: a fleet CA (ECDSA P-256) in DIR/ca and DIR/fleet.json with the broker's port");
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_option("--broker-port", o->port, "the port the broker listens on, on 127.0.0.1")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_flag("--force", o->force, "replace a fleet that is there");
  cmd->callback([o] {
    const tools::FleetDirectory fleet(o->fleet);
    fleet.create(o->port, o->force);
    tools::FleetCa::create(tools::kFleetValidityDays).save(fleet.ca(), o->force);
  });
}

void add_device_new(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", id;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* device = group.add_subcommand("device", "Device identities: new");
  device->require_subcommand(1);
  CLI::App* cmd = device->add_subcommand(
      "new",
      "A device identity: key and certificate (CN = ID) in DIR/devices/ID, and the `fleet` section for its "
      "device.json (printed, and written to DIR/devices/ID/fleet.json)");
  cmd->add_option("--id", o->id, "the device id: 1 to 64 of A-Z a-z 0-9 . _ -")->required();
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_flag("--force", o->force, "replace the device's identity");
  cmd->callback(
      [o] { std::cout << tools::create_device_identity(tools::FleetDirectory(o->fleet), o->id, o->force); });
}

void add_controller_new(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet";
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* controller = group.add_subcommand("controller", "The controller's identity: new");
  controller->require_subcommand(1);
  CLI::App* cmd = controller->add_subcommand(
      "new", fmt::format("The controller's key and certificate (CN = {}) in DIR/controller; only it may "
                         "publish jobs",
                         tools::kControllerId));
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_flag("--force", o->force, "replace the controller's identity");
  cmd->callback([o] { tools::create_controller_identity(tools::FleetDirectory(o->fleet), o->force); });
}

void add_broker_config(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", output;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "broker-config",
      "Write a mosquitto configuration for the fleet: TLS on 127.0.0.1, client certificates required, the "
      "fleet ACL (run it with `mosquitto -c DIR/mosquitto.conf`)");
  cmd->add_option("-o,--output", o->output, "the directory to write")->required();
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_flag("--force", o->force, "replace a configuration that is there");
  cmd->callback([o] { tools::write_broker_config(tools::FleetDirectory(o->fleet), o->output, o->force); });
}

using namespace std::chrono_literals;
constexpr auto kSettle = 700ms;  // long enough for the broker to send every retained status after subscribing

std::string age(int64_t last_seen) {
  if (last_seen == 0) return "never";
  const int64_t seconds = std::max<int64_t>(0, std::time(nullptr) - last_seen);
  return seconds < 120 ? fmt::format("{}s ago", seconds) : fmt::format("{}m ago", seconds / 60);
}

nlohmann::json device_json(const tools::DeviceRow& row) {
  nlohmann::json doc = {{"id", row.id},    {"presence", row.presence}, {"last_seen", row.last_seen},
                        {"apps", nullptr}, {"job", nullptr},           {"last_job", nullptr}};
  const auto status = nlohmann::json::parse(row.status, nullptr, false);
  if (!status.is_discarded() && status.is_object()) {
    doc["apps"] = status.value("apps", nlohmann::json());
    doc["job"] = status.value("job", nlohmann::json());
    doc["last_job"] = status.value("last_job", nlohmann::json());
  }
  return doc;
}

std::string app_text(const nlohmann::json& apps, const char* level) {
  if (!apps.is_object() || !apps.contains(level)) return "-";
  const auto& app = apps[level];
  return fmt::format("{} ({})", app.value("version", "?"), app.value("state", "?"));
}

void add_devices(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet";
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "devices",
      "The fleet's devices as their retained statuses say: versions, states, last seen, last outcome");
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->callback([o] {
    std::ostringstream quiet;
    tools::FleetController controller(tools::FleetDirectory(o->fleet), quiet);
    controller.refresh(kSettle);
    nlohmann::json all = nlohmann::json::array();
    std::string text = fmt::format("{:<20} {:<8} {:<24} {:<24} {:<26} {}\n", "DEVICE", "PRESENCE",
                                   "PROTECTED", "USER", "LAST OUTCOME", "LAST SEEN");
    for (const tools::DeviceRow& row : controller.database().devices()) {
      const nlohmann::json doc = device_json(row);
      all.push_back(doc);
      const std::string outcome = doc["last_job"].is_object() ? doc["last_job"].value("outcome", "?") + " " +
                                                                    doc["last_job"].value("id", "")
                                                              : "-";
      text += fmt::format("{:<20} {:<8} {:<24} {:<24} {:<26} {}\n", row.id,
                          row.presence.empty() ? "-" : row.presence, app_text(doc["apps"], "protected"),
                          app_text(doc["apps"], "user"), outcome, age(row.last_seen));
    }
    print_output(o->json, text, all.dump(2));
  });
}

void add_rollout(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", devices = "all", failure_rate = "10%";
    tools::RolloutRequest request;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand("rollout",
                                       "Roll an image out wave by wave: publish each wave's jobs, wait for "
                                       "their outcomes, stop when a wave's failure "
                                       "rate exceeds the limit (the rest get no job)");
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_option("--level", o->request.level, "user or protected")
      ->required()
      ->check(CLI::IsMember({"user", "protected"}));
  cmd->add_option("--url", o->request.url,
                  "the signed image's URL (each device checks it against its policy)")
      ->required();
  cmd->add_option("--version", o->request.version, "the version the image carries")->required();
  cmd->add_option("--size", o->request.size, "the image's size in bytes (devices check it)");
  cmd->add_option("--sha256", o->request.sha256,
                  "the image file's SHA-256, 64 lower-case hex digits (devices check it)");
  cmd->add_option("--devices", o->devices,
                  "a file with one device id per line, or all (every device heard of)")
      ->capture_default_str();
  cmd->add_option("--waves", o->request.waves, "cumulative percentages of the devices, ending at 100%")
      ->capture_default_str();
  cmd->add_option(
         "--max-failure-rate", o->failure_rate,
         "stop after a wave whose failed share is above this (20% or 0.2); no outcome by the timeout "
         "counts as failed")
      ->capture_default_str();
  cmd->add_option("--wave-timeout", o->request.wave_timeout_s, "seconds to wait for a wave's outcomes")
      ->capture_default_str();
  cmd->callback([o] {
    o->request.max_failure_rate = tools::parse_failure_rate(o->failure_rate);
    if (o->devices != "all") o->request.devices = tools::read_devices_file(o->devices);
    tools::FleetController controller(tools::FleetDirectory(o->fleet), std::cout);
    controller.refresh(kSettle);
    const std::string id = controller.create_rollout(o->request);
    const std::string state = controller.run(id);
    const auto row = controller.database().rollout(id);
    if (state != "COMPLETED") throw ToolError(fmt::format("rollout {} {}: {}", id, state, row->reason));
    std::cout << fmt::format("rollout {} COMPLETED\n", id);
  });
}

void add_resume(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", id;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "resume", "Continue a rollout a stopped controller left running, from where its database says");
  cmd->add_option("ID", o->id, "the rollout id")->required();
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->callback([o] {
    tools::FleetController controller(tools::FleetDirectory(o->fleet), std::cout);
    controller.refresh(kSettle);
    const std::string state = controller.run(o->id);
    const auto row = controller.database().rollout(o->id);
    if (state != "COMPLETED") throw ToolError(fmt::format("rollout {} {}: {}", o->id, state, row->reason));
    std::cout << fmt::format("rollout {} COMPLETED\n", o->id);
  });
}

void add_status(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", id;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand("status", "A rollout: its state, waves and each device's job");
  cmd->add_option("ID", o->id, "the rollout id")->required();
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] {
    std::ostringstream quiet;
    tools::FleetController controller(tools::FleetDirectory(o->fleet), quiet);
    controller.refresh(kSettle);
    const auto rollout = controller.database().rollout(o->id);
    if (!rollout) throw ToolError(fmt::format("there is no rollout '{}'", o->id));
    nlohmann::json doc = {{"id", rollout->id},
                          {"level", rollout->level},
                          {"url", rollout->url},
                          {"version", rollout->version},
                          {"waves", rollout->waves},
                          {"state", rollout->state},
                          {"reason", rollout->reason},
                          {"wave", rollout->current_wave + 1},
                          {"wave_count", rollout->wave_count},
                          {"jobs", nlohmann::json::array()}};
    std::string text = fmt::format("rollout {}: {} {} {} ({}), wave {}/{}, {}{}\n", rollout->id,
                                   rollout->level, rollout->version, rollout->url, rollout->waves,
                                   rollout->current_wave + 1, rollout->wave_count, rollout->state,
                                   rollout->reason.empty() ? "" : ": " + rollout->reason);
    for (const tools::JobRow& job : controller.database().jobs(o->id)) {
      const std::string outcome = job.outcome ? *job.outcome : job.step.empty() ? "published" : job.step;
      doc["jobs"].push_back({{"id", job.id},
                             {"device", job.device},
                             {"wave", job.wave + 1},
                             {"published", job.published},
                             {"state", outcome},
                             {"reason", job.reason}});
      text += fmt::format("  {:<20} wave {}  {}{}\n", job.device, job.wave + 1, outcome,
                          job.reason.empty() ? "" : " (" + job.reason + ")");
    }
    print_output(o->json, text, doc.dump(2));
  });
}

void add_cancel(CLI::App& group) {
  struct Options {
    std::string fleet = "fleet", id;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "cancel", "Stop a rollout: no further waves; jobs not yet started on their devices are canceled");
  cmd->add_option("ID", o->id, "the rollout id")->required();
  cmd->add_option("--fleet", o->fleet, kFleetHelp);
  cmd->callback([o] {
    std::ostringstream quiet;
    tools::FleetController controller(tools::FleetDirectory(o->fleet), quiet);
    controller.cancel(o->id);
  });
}

}  // namespace

void add_fleet_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "fleet", "Fleets over MQTT: identities, the broker's configuration, rollouts (docs/fleet.md)");
  group->require_subcommand(1);
  add_ca_new(*group);
  add_device_new(*group);
  add_controller_new(*group);
  add_broker_config(*group);
  add_devices(*group);
  add_rollout(*group);
  add_resume(*group);
  add_status(*group);
  add_cancel(*group);
}

}  // namespace privota::cli
