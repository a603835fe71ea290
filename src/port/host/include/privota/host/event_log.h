// EventLog: the device's log, one JSON object per line on a pipe to the sim, which adds the boot number and
// time and renders it (privota-sim --log text|json). Machine-readable on purpose: tests and the demo check
// what happened by event name and fields, never by parsing prose.
//
//   {"src":"protected","level":"info","event":"user_started","msg":"hello 1.0.0 from user_0 (trial)",
//    "slot":0,...}
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace privota::host {

enum class LogLevel { kError, kWarn, kInfo, kDebug };

const char* log_level_name(LogLevel level);

// One event as people read it: "!! " / "!  " / "   " by level, the source padded to 10, the message.
// Every byte that could move the cursor or start a terminal sequence (C0 controls such as ESC, CR and LF,
// DEL, the C1 controls U+0080..U+009F such as CSI and OSC, and bytes that are not UTF-8) is shown as a
// visible escape (\x1b, \u009b), and a backslash as \\, so text from a user app can never end the line or
// pose as another source's line. No trailing newline.
std::string event_text(const nlohmann::json& event);

class EventLog {
 public:
  // Writes to `fd` (not owned). -1: discard.
  EventLog(int fd, std::string source) : fd_(fd), source_(std::move(source)) {}

  // Stamps every line with "flash_writes": the device's write count (shared memory) when it was emitted,
  // exact to the write, which the sim's own stamp (taken when it shows the line) is not.
  void set_write_counter(const uint64_t* writes) { writes_ = writes; }

  // `fields` (a JSON object or null) are merged into the line. Thread-safe; a line is written whole.
  void emit(LogLevel level, std::string_view event, std::string_view message,
            const nlohmann::json& fields = nullptr);
  void info(std::string_view event, std::string_view message, const nlohmann::json& fields = nullptr) {
    emit(LogLevel::kInfo, event, message, fields);
  }
  void warn(std::string_view event, std::string_view message, const nlohmann::json& fields = nullptr) {
    emit(LogLevel::kWarn, event, message, fields);
  }
  void error(std::string_view event, std::string_view message, const nlohmann::json& fields = nullptr) {
    emit(LogLevel::kError, event, message, fields);
  }
  // As `emit`, with another source (the protected app logs for the user app as "user").
  void emit_as(std::string_view source, LogLevel level, std::string_view event, std::string_view message,
               const nlohmann::json& fields = nullptr);

 private:
  int fd_;
  std::string source_;
  const uint64_t* writes_ = nullptr;
  std::mutex mutex_;
};

}  // namespace privota::host
