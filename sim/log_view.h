// LogView: prints the device's event log (privota/host/event_log.h) for people (text) or programs (json),
// stamped with the boot number and the time since the sim started.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace privota::sim {

enum class LogFormat { kText, kJson };

class LogView {
 public:
  LogView(LogFormat format, std::FILE* out) : format_(format), out_(out) {}

  void set_boot(int boot) { boot_ = boot; }
  // Also write every event as JSON to `events` (privota-sim --events FILE), whatever the format on `out`.
  void set_events_file(std::FILE* events) { events_ = events; }
  // The device's flash write counter, stamped on every JSON event as "flash_writes" (as read when the sim
  // shows the event: a point to aim --power-cut-at at).
  void set_write_counter(const uint64_t* writes) { writes_ = writes; }
  // Also hand every event to `observer` (the sim watches what the device says, e.g. whether an update the
  // command line asked for happened).
  void set_observer(std::function<void(const nlohmann::json&)> observer) { observer_ = std::move(observer); }
  // One line as the protected app wrote it; a line that is not JSON is shown as it is.
  void line(const std::string& text);
  void event(const nlohmann::json& event);

 private:
  LogFormat format_;
  std::FILE* out_;
  int boot_ = 0;
  std::FILE* events_ = nullptr;
  const uint64_t* writes_ = nullptr;
  std::function<void(const nlohmann::json&)> observer_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// An event that the sim's side of the device says itself, from `src` ("sim", or "bootloader" for the
// bootloader inside the sim): what it did or saw, with `fields` added.
void say_from(LogView& log, const char* src, const std::string& level, const std::string& event,
              const std::string& message, nlohmann::json fields = nlohmann::json::object());
// An event of the sim itself (src "sim").
inline void say(LogView& log, const std::string& level, const std::string& event, const std::string& message,
                nlohmann::json fields = nlohmann::json::object()) {
  say_from(log, "sim", level, event, message, std::move(fields));
}

}  // namespace privota::sim
