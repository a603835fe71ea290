// URLs as host programs show them (the device's log, the privota CLI): never with credentials. One wrapper
// around the core's redact_userinfo (privota/url_redaction.h).
#pragma once

#include <string>

namespace privota::host {

// "https://user:pw@host/" -> "https://***@host/"; a URL without userinfo unchanged.
std::string redacted_url(const std::string& url);

}  // namespace privota::host
