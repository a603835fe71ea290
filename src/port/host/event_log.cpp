#include "privota/host/event_log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace privota::host {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "info";
}

void EventLog::emit(LogLevel level, std::string_view event, std::string_view message,
                    const nlohmann::json& fields) {
  emit_as(source_, level, event, message, fields);
}

void EventLog::emit_as(std::string_view source, LogLevel level, std::string_view event,
                       std::string_view message, const nlohmann::json& fields) {
  if (fd_ < 0) return;
  nlohmann::json line = {
      {"src", source}, {"level", log_level_name(level)}, {"event", event}, {"msg", message}};
  if (fields.is_object()) line.update(fields);
  if (writes_ != nullptr) {
    // Another process counts in the same word: read it atomically.
    line["flash_writes"] = std::atomic_ref<uint64_t>(*const_cast<uint64_t*>(writes_)).load();
  }
  // Text from a user app may hold anything: replace invalid UTF-8 rather than throw.
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the sim is gone; nothing useful to do with a log line
    done += static_cast<size_t>(n);
  }
}

}  // namespace privota::host
