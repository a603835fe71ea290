#include "sim_device.h"

#include <gtest/gtest.h>

#include <sstream>

namespace privota::test {
namespace {

const std::filesystem::path kDeviceDir = PRIVOTA_DEVICE_DIR;

std::string q(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

}  // namespace

std::string must(const CommandResult& result, const std::string& what) {
  if (result.exit_code != 0) ADD_FAILURE() << what << " failed (" << result.exit_code << "):\n" << result.out;
  return result.out;
}

std::vector<nlohmann::json> SimRun::all(const std::string& event) const {
  std::vector<nlohmann::json> found;
  for (const nlohmann::json& e : events)
    if (e.value("event", "") == event) found.push_back(e);
  return found;
}

nlohmann::json SimRun::first(const std::string& event, int boot) const {
  for (const nlohmann::json& e : events)
    if (e.value("event", "") == event && (boot == 0 || e.value("boot", 0) == boot)) return e;
  return nullptr;
}

int SimRun::boots() const {
  return static_cast<int>(count("power_on"));
}

SimDevice::SimDevice()
    : keys_(kDeviceDir / "keys"), flash_(dir_ / "flash.bin"), config_(dir_ / "device.json") {}

std::string SimDevice::cli() const {
  return PRIVOTA_CLI;
}

std::filesystem::path SimDevice::user_image(const std::string& example, const std::string& version,
                                            uint32_t secure_version) {
  return signed_user_image(example + "-" + version, kDeviceDir / "images" / (example + ".elf"), example,
                           version, secure_version);
}

std::filesystem::path SimDevice::signed_user_image(const std::string& name,
                                                   const std::filesystem::path& payload,
                                                   const std::string& project, const std::string& version,
                                                   uint32_t secure_version, const std::string& extra) {
  const std::filesystem::path unsigned_image = dir_ / (name + ".bin");
  const std::filesystem::path signed_image = dir_ / (name + ".signed.bin");
  if (std::filesystem::exists(signed_image)) return signed_image;
  must(run_command(cli() + " image build --payload " + q(payload) + " --version " + version +
                   " --secure-version " + std::to_string(secure_version) + " --project " + project + " " +
                   extra + " -o " + q(unsigned_image)),
       "image build");
  must(run_command(cli() + " image sign --scheme user-cert --key " + q(keys_ / "dev.pem") + " --cert " +
                   q(keys_ / "dev_uac.pem") + " " + q(unsigned_image) + " -o " + q(signed_image)),
       "image sign");
  return signed_image;
}

std::filesystem::path SimDevice::padded_elf(const std::string& example, size_t size) {
  std::vector<uint8_t> bytes = read_file(kDeviceDir / "images" / (example + ".elf"));
  // Not zeros, so that nothing along the way could pass for a run of erased flash.
  for (size_t i = bytes.size(); i < size; ++i)
    bytes.push_back(static_cast<uint8_t>(i % 251));
  const std::filesystem::path out = dir_ / (example + "-padded-" + std::to_string(size) + ".elf");
  write_file(out, bytes);
  return out;
}

std::filesystem::path SimDevice::protected_image(const std::string& version, uint32_t secure_version) {
  const std::filesystem::path unsigned_image = dir_ / ("protected-" + version + ".bin");
  const std::filesystem::path signed_image = dir_ / ("protected-" + version + ".signed.bin");
  if (std::filesystem::exists(signed_image)) return signed_image;
  must(run_command(cli() + " image build --payload " + q(kDeviceDir / "images" / "protected.elf") +
                   " --version " + version + " --secure-version " + std::to_string(secure_version) +
                   " --project protected -o " + q(unsigned_image)),
       "image build");
  must(run_command(cli() + " image sign --scheme secure-boot-v2 --key " + q(keys_ / "owner.pem") + " " +
                   q(unsigned_image) + " -o " + q(signed_image)),
       "image sign");
  return signed_image;
}

std::filesystem::path SimDevice::tampered(const std::filesystem::path& image) {
  std::vector<uint8_t> bytes = read_file(image);
  bytes.at(2000) ^= 0x01;  // inside the payload segment: the hash and signature no longer match
  const std::filesystem::path out = image.parent_path() / ("tampered-" + image.filename().string());
  write_file(out, bytes);
  return out;
}

void SimDevice::make_flash(const std::filesystem::path& protected_app, const std::filesystem::path& user_app,
                           bool raw) {
  const std::string write = cli() + " flash write " + (raw ? "--raw " : "") + q(flash_);
  must(run_command(cli() + " flash new --force --table " +
                   q(std::filesystem::path(PRIVOTA_SOURCE_DIR) / "examples/device/partitions.csv") +
                   " --size 4MB -o " + q(flash_)),
       "flash new");
  must(run_command(write + " --partition ota_0 " + q(protected_app)), "flash write");
  must(run_command(write + " --partition user_0 " + q(user_app)), "flash write");
}

void SimDevice::ota(const std::string& level, const std::filesystem::path& image) {
  const std::string trust = level == "user" ? "--ca " + q(keys_ / "ca") : "--key " + q(keys_ / "owner.pem");
  must(run_command(cli() + " flash ota " + q(flash_) + " --level " + level + " " + trust + " " + q(image)),
       "flash ota");
}

void SimDevice::configure(const std::string& extra, bool trust_owner) {
  const std::string owner = trust_owner ? " --key " + q(keys_ / "owner.pem") : "";
  must(run_command(cli() + " config new --force" + owner + " --user-ca " + q(keys_ / "ca") + " -o " +
                   q(config_) + " " + extra),
       "config new");
}

SimRun SimDevice::run(const std::string& extra) {
  if (!std::filesystem::exists(config_)) configure();
  const CommandResult result = run_command(std::string(PRIVOTA_SIM) + " run " + q(flash_) + " --config " +
                                           q(config_) + " --log json " + extra);
  SimRun run;
  run.exit_code = result.exit_code;
  run.output = result.out;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    try {
      run.events.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::parse_error&) {
      // not an event (e.g. a sanitizer's report): kept in output only
    }
  }
  return run;
}

nlohmann::json SimDevice::show() {
  return nlohmann::json::parse(
      must(run_command(cli() + " flash show " + q(flash_) + " --json"), "flash show"));
}

std::string SimDevice::running(const std::string& level) {
  const nlohmann::json j = show();
  const nlohmann::json& sel = j[level == "user" ? "uotadata" : "otadata"];
  if (sel["active_entry"].is_null()) return "none";
  for (const nlohmann::json& slot : j["slots"]) {
    if (slot["partition"] == sel["selects"]) {
      return slot["image"]["version"].get<std::string>() + " " +
             sel["entries"][sel["active_entry"].get<int>()]["state"].get<std::string>();
    }
  }
  return "unknown";
}

}  // namespace privota::test
