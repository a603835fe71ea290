#include "privota/url_redaction.h"

#include <string.h>

namespace privota {
namespace {

// Where the authority starts: after "://", or at 0 for text without a scheme.
size_t authority_start(Span<const char> url) {
  for (size_t i = 0; i + 2 < url.size(); ++i) {
    if (url[i] == '/' || url[i] == '?' || url[i] == '#') return 0;
    if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') return i + 3;
  }
  return 0;
}

// The last '@' of the authority, or url.size() when it has none.
size_t userinfo_end(Span<const char> url, size_t start) {
  size_t at = url.size();
  for (size_t i = start; i < url.size() && url[i] != '/' && url[i] != '?' && url[i] != '#'; ++i) {
    if (url[i] == '@') at = i;
  }
  return at;
}

}  // namespace

Status redact_userinfo(Span<const char> url, Span<char> out) {
  constexpr char kMask[] = "***";
  constexpr size_t kMaskLength = sizeof kMask - 1;
  const size_t start = authority_start(url);
  const size_t at = userinfo_end(url, start);
  const bool redact = at < url.size();
  const size_t needed = redact ? start + kMaskLength + (url.size() - at) + 1 : url.size() + 1;
  if (out.size() < needed) {
    if (!out.empty()) out[0] = '\0';
    return Status::error(Code::kLimitExceeded, "buffer too small for the redacted URL",
                         static_cast<uint32_t>(needed));
  }
  if (!redact) {
    memcpy(out.data(), url.data(), url.size());
    out[url.size()] = '\0';
    return Status::ok();
  }
  memcpy(out.data(), url.data(), start);
  memcpy(out.data() + start, kMask, kMaskLength);
  memcpy(out.data() + start + kMaskLength, url.data() + at, url.size() - at);
  out[needed - 1] = '\0';
  return Status::ok();
}

}  // namespace privota
