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

namespace {

// Length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlong forms, no
// surrogates, at most U+10FFFF); 0 when there is none.
size_t utf8_sequence_length(std::string_view text) {
  const auto at = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = at(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf)
    length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || at(1) < low || at(1) > high) return 0;
  for (size_t i = 2; i < length; ++i)
    if (at(i) < 0x80 || at(i) > 0xbf) return 0;
  return length;
}

// See event_text(): printable ASCII and well-formed UTF-8 pass; everything a terminal could act on is shown.
std::string escape_for_text(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\') {
      out += "\\\\";
      ++i;
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
      ++i;
    } else if (const size_t n = byte >= 0x80 ? utf8_sequence_length(text.substr(i)) : 0; n > 0) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      if (byte == 0xc2 && second < 0xa0) {  // a C1 control, U+0080..U+009F
        out += "\\u00";
        out += kHex[second >> 4];
        out += kHex[second & 0xf];
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    } else {  // a C0 control, DEL, or a byte that is not UTF-8
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
      ++i;
    }
  }
  return out;
}

// A field as text: a string as it is, anything else (a number, an object) as its JSON.
std::string field_text(const nlohmann::json& event, const char* key, const char* absent) {
  const auto it = event.find(key);
  if (it == event.end()) return absent;
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string event_text(const nlohmann::json& event) {
  const std::string level = field_text(event, "level", "info");
  const std::string mark = level == "error" ? "!! " : level == "warn" ? "!  " : "   ";
  std::string source = escape_for_text(field_text(event, "src", "?"));
  if (source.size() < 10) source.resize(10, ' ');
  return mark + source + " " + escape_for_text(field_text(event, "msg", ""));
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
