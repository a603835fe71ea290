#include "fleet_directory.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "tool_error.h"

namespace privota::tools {

void FleetDirectory::create(uint16_t broker_port, bool overwrite) const {
  if (broker_port == 0) throw ToolError("the broker port must be 1 to 65535");
  const auto file = root_ / "fleet.json";
  if (!overwrite && std::filesystem::exists(file)) {
    throw ToolError(
        fmt::format("'{}' already holds a fleet; use --force to start a new one there", root_.string()));
  }
  std::error_code error;
  std::filesystem::create_directories(root_, error);
  if (error) throw ToolError(fmt::format("cannot create '{}': {}", root_.string(), error.message()));
  const std::string text =
      nlohmann::json{{"broker", {{"host", "127.0.0.1"}, {"port", broker_port}}}}.dump(2) + "\n";
  write_file_atomically(file, {text.begin(), text.end()});
}

uint16_t FleetDirectory::broker_port() const {
  const auto file = root_ / "fleet.json";
  if (!std::filesystem::exists(file)) {
    throw ToolError(
        fmt::format("'{}' is not a fleet directory (no fleet.json; make one with `privota fleet ca "
                    "new --fleet {}`)",
                    root_.string(), root_.string()));
  }
  try {
    const auto json = nlohmann::json::parse(read_text_file(file));
    const auto port = json.at("broker").at("port").get<int64_t>();
    if (port < 1 || port > 65535) throw ToolError("out of range");
    return static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    throw ToolError(fmt::format("'{}' has no valid broker.port", file.string()));
  }
}

void check_device_id(const std::string& id) {
  const bool characters_ok = !id.empty() && id.size() <= 64 &&
                             id.find_first_not_of(
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                 "qrstuvwxyz0123456789._-") == std::string::npos;
  if (!characters_ok || id[0] == '.' || id.rfind("privota-", 0) == 0) {
    throw ToolError(
        fmt::format("'{}' is not a device id: use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with "
                    "'.' or 'privota-'",
                    id));
  }
}

}  // namespace privota::tools
