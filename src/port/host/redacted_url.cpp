#include "privota/host/redacted_url.h"

#include "privota/url_redaction.h"

namespace privota::host {

std::string redacted_url(const std::string& url) {
  std::string out(url.size() + 4, '\0');  // "***" is never longer than the userinfo plus 3, and the NUL
  if (!redact_userinfo({url.data(), url.size()}, {out.data(), out.size()}).is_ok()) return "(a URL)";
  return out.c_str();
}

}  // namespace privota::host
