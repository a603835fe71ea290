// SimDevice: a simulated device for end-to-end tests — signed images made with the `privota` CLI from the
// example apps (with the example device's development keys), a flash file, a device.json, and runs of
// `privota-sim run --log json` whose events the tests check by name and field.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace privota::test {

struct SimRun {
  int exit_code = -1;
  std::vector<nlohmann::json> events;
  std::string output;  // everything the sim printed, for failure messages

  std::vector<nlohmann::json> all(const std::string& event) const;
  // The first event named `event` (of boot `boot` when > 0); a null json when there is none.
  nlohmann::json first(const std::string& event, int boot = 0) const;
  size_t count(const std::string& event) const { return all(event).size(); }
  int boots() const;
};

class SimDevice {
 public:
  SimDevice();

  // A signed image of example `example` (hello, crasher, sleeper, updater, intruder) with this version.
  std::filesystem::path user_image(const std::string& example, const std::string& version,
                                   uint32_t secure_version);
  std::filesystem::path protected_image(const std::string& version, uint32_t secure_version);
  // A signed user image of any payload (an ELF with trailing bytes still runs); `extra`: more `privota image
  // build` options (e.g. "--chip esp32s3"). Named `name` in dir(); made once per name.
  std::filesystem::path signed_user_image(const std::string& name, const std::filesystem::path& payload,
                                          const std::string& project, const std::string& version,
                                          uint32_t secure_version, const std::string& extra = "");
  // The example's ELF with bytes appended up to `size` bytes (a larger image that still runs).
  std::filesystem::path padded_elf(const std::string& example, size_t size);
  // A copy of `image` with one payload byte flipped.
  std::filesystem::path tampered(const std::filesystem::path& image);

  // A factory flash: the default table, `protected_app` in ota_0, `user_app` in user_0.
  // raw: write even what does not parse as an app image (to test that the device refuses it).
  void make_flash(const std::filesystem::path& protected_app, const std::filesystem::path& user_app,
                  bool raw = false);
  // `privota flash ota` of one level: the image goes into the passive slot, selected as NEW.
  void ota(const std::string& level, const std::filesystem::path& image);
  // device.json via `privota config new` plus `extra` options; trust_owner: the owner's key is trusted.
  void configure(const std::string& extra = "", bool trust_owner = true);
  SimRun run(const std::string& extra = "");
  // `privota flash show --json` of the flash.
  nlohmann::json show();
  // The version the level's select partition runs and its state ("2.0.0 valid").
  std::string running(const std::string& level);

  const std::filesystem::path& flash() const { return flash_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string cli() const;

 private:
  TempDir dir_;
  std::filesystem::path keys_;
  std::filesystem::path flash_;
  std::filesystem::path config_;
};

// Fails the test with the command's output when it did not exit 0.
std::string must(const CommandResult& result, const std::string& what);

}  // namespace privota::test
