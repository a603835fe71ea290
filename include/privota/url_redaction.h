// URLs as logs and tools show them: credentials in a URL's authority (https://user:password@host/) are
// replaced by "***" (https://***@host/), so a log line or a terminal never shows a password. The URL policy
// refuses such URLs (kUrlUserinfo), but the refusal itself is logged with the URL, and so is a configured
// one.
#pragma once

#include <stddef.h>

#include "privota/span.h"
#include "privota/status.h"

namespace privota {

// Copies `url` into `out`, NUL-terminated, with the userinfo of its authority (everything before the last
// '@' between "scheme://" and the first '/', '?' or '#') replaced by "***"; a URL without userinfo is
// copied unchanged. kLimitExceeded when `out` cannot hold the result and its NUL (`out` then holds "", never
// a cut URL); the detail is the size needed.
Status redact_userinfo(Span<const char> url, Span<char> out);

}  // namespace privota
