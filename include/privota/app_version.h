// App versions as people write them in esp_app_desc_t.version ("1.2.10", "v2.0", "1.4.0-rc1"): is an
// update newer than what runs?
//
// A version parses as an optional leading 'v' or 'V', then one or more dot-separated unsigned decimal
// numbers (each at most 9 digits), then optionally '-' or '+' and a suffix that is ignored. Missing trailing
// numbers count as 0 ("2.0" == "2.0.0"). Anything else does not parse, and then only an identical string
// counts as not newer: a device with unparseable versions can still be updated, but never to the same text.
#pragma once

#include <stdint.h>

#include "privota/span.h"

namespace privota {

constexpr uint32_t kMaxVersionParts = 8;

struct AppVersion {
  uint32_t parts[kMaxVersionParts] = {};
  uint32_t count = 0;
};

// false when `text` is not a version by the rule above (also when it has more than kMaxVersionParts).
bool parse_app_version(Span<const char> text, AppVersion& out);

// <0, 0, >0 as a is older, equal or newer than b.
int compare_app_versions(const AppVersion& a, const AppVersion& b);

// Whether an image of version `candidate` may replace the running `running` (both NUL-terminated).
bool app_version_is_newer(const char* candidate, const char* running);

}  // namespace privota
