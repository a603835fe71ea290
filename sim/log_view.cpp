#include "log_view.h"

#include <fmt/format.h>

#include "privota/host/event_log.h"

namespace privota::sim {

void LogView::line(const std::string& text) {
  nlohmann::json event;
  try {
    event = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    event = {{"src", "protected"}, {"level", "info"}, {"event", "raw"}, {"msg", text}};
  }
  if (!event.is_object()) event = {{"src", "protected"}, {"level", "info"}, {"event", "raw"}, {"msg", text}};
  this->event(event);
}

void LogView::event(const nlohmann::json& e) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_)
          .count();
  nlohmann::json stamped = e;
  stamped["boot"] = boot_;
  stamped["t_ms"] = ms;
  if (writes_ != nullptr && !stamped.contains("flash_writes")) stamped["flash_writes"] = *writes_;
  const std::string json = stamped.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (events_ != nullptr) {
    std::fputs(json.c_str(), events_);
    std::fflush(events_);
  }
  if (format_ == LogFormat::kJson) {
    std::fputs(json.c_str(), out_);
  } else {
    std::fputs(
        fmt::format("[boot {} {:7.3f}s] {}\n", boot_, static_cast<double>(ms) / 1000.0, host::event_text(e))
            .c_str(),
        out_);
  }
  std::fflush(out_);
  if (observer_) observer_(stamped);
}

void say_from(LogView& log, const char* src, const std::string& level, const std::string& event,
              const std::string& message, nlohmann::json fields) {
  fields["src"] = src;
  fields["level"] = level;
  fields["event"] = event;
  fields["msg"] = message;
  log.event(fields);
}

}  // namespace privota::sim
