// LogView: prints the device's event log (privota/host/event_log.h) for people (text) or programs (json),
// stamped with the boot number and the time since the sim started.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace privota::sim {

enum class LogFormat { kText, kJson };

class LogView {
 public:
  LogView(LogFormat format, std::FILE* out) : format_(format), out_(out) {}

  void set_boot(int boot) { boot_ = boot; }
  // One line as the protected app wrote it; a line that is not JSON is shown as it is.
  void line(const std::string& text);
  void event(const nlohmann::json& event);

 private:
  LogFormat format_;
  std::FILE* out_;
  int boot_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace privota::sim
