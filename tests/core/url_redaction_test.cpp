// redact_userinfo: credentials never reach a log line, nothing else in a URL changes, and a buffer too small
// gets an error and an empty string, never a cut URL.
#include "privota/url_redaction.h"

#include <gtest/gtest.h>

#include <string>

namespace privota {
namespace {

std::string redacted(const std::string& url, size_t room = 256) {
  std::string out(room, 'z');
  const Status s = redact_userinfo({url.data(), url.size()}, {out.data(), out.size()});
  if (!s.is_ok())
    return std::string("error ") + code_name(s.code()) + " " + std::to_string(s.detail()) + " [" +
           out.c_str() + "]";
  return out.c_str();
}

TEST(UrlRedaction, ReplacesTheUserinfoOnly) {
  const std::pair<const char*, const char*> rows[] = {
      {"https://user:pw@host/", "https://***@host/"},
      {"https://user@host:8443/a?b=c", "https://***@host:8443/a?b=c"},
      {"http://a:b@c@host/x@y",
       "http://***@host/x@y"},  // the last '@' of the authority; the path keeps its own
      {"https://host/path@x", "https://host/path@x"},
      {"https://host/?q=user:pw@x", "https://host/?q=user:pw@x"},
      {"https://host", "https://host"},
      {"user:pw@host/x", "***@host/x"},
      {"https://:@host/", "https://***@host/"},
      {"", ""},
  };
  for (const auto& [url, want] : rows)
    EXPECT_EQ(redacted(url), want) << url;
}

TEST(UrlRedaction, ABufferTooSmallIsAnErrorNotACutUrl) {
  EXPECT_EQ(redacted("https://user:pw@host/", 18), "https://***@host/");
  EXPECT_EQ(redacted("https://user:pw@host/", 17), "error limit_exceeded 18 []");
  EXPECT_EQ(redacted("https://host/", 13), "error limit_exceeded 14 []");
}

}  // namespace
}  // namespace privota
