#include "location.h"

#include <string.h>

namespace privota {
namespace {

bool starts_with_scheme(const char* text) {
  const char* schemes[] = {"https://", "http://"};
  for (const char* scheme : schemes) {
    size_t i = 0;
    while (scheme[i] != '\0' && text[i] != '\0' && (text[i] | 0x20) == scheme[i])
      ++i;
    if (scheme[i] == '\0') return true;
  }
  return false;
}

// Length of "scheme://authority" at the start of an accepted URL: up to the first '/' or '?' after "://".
size_t origin_length(const char* url, size_t len) {
  const char* sep = strstr(url, "://");
  size_t i = sep == nullptr ? len : static_cast<size_t>(sep - url) + 3;
  while (i < len && url[i] != '/' && url[i] != '?')
    ++i;
  return i;
}

}  // namespace

Status follow_location(char (&url)[kMaxLocationLength + 1], uint16_t& url_len, const char* location,
                       const UrlPolicy& policy) {
  const size_t location_len = strlen(location);
  if (location_len == 0) return Status::error(Code::kUrlMalformed, "redirect without a Location");
  size_t prefix = 0;
  if (!starts_with_scheme(location)) {
    // Only a path on the same origin; "//host/..." (scheme-relative) and "path" (document-relative) are not.
    if (location[0] != '/' || location[1] == '/')
      return Status::error(Code::kUrlMalformed, "redirect Location is neither absolute nor a path");
    prefix = origin_length(url, url_len);
  }
  if (prefix + location_len > kMaxLocationLength)
    return Status::error(Code::kUrlTooLong, "redirect target is longer than the job keeps",
                         static_cast<uint32_t>(prefix + location_len));
  char target[kMaxLocationLength + 1];
  memcpy(target, url, prefix);
  memcpy(target + prefix, location, location_len);
  const size_t target_len = prefix + location_len;
  target[target_len] = '\0';
  PRIVOTA_TRY(check_url(Span<const char>(target, target_len), policy).status());
  memcpy(url, target, target_len + 1);
  url_len = static_cast<uint16_t>(target_len);
  return Status::ok();
}

}  // namespace privota
