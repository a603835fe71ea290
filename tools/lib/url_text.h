// URLs as the tools print them: never with credentials (the core's redact_userinfo, which the device's log
// uses too).
#pragma once

#include <string>

namespace privota::tools {

// "https://user:pw@host/" -> "https://***@host/"; anything else unchanged.
std::string redacted_url(const std::string& url);

}  // namespace privota::tools
