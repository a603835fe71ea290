#include "url_text.h"

#include "privota/url_redaction.h"

namespace privota::tools {

std::string redacted_url(const std::string& url) {
  std::string out(url.size() + 4, '\0');  // "***" is never longer than the userinfo plus 3
  (void)redact_userinfo({url.data(), url.size()}, {out.data(), out.size()});
  return out.c_str();
}

}  // namespace privota::tools
