// Following a redirect: where a Location points, resolved against the URL that answered with it.
#pragma once

#include <stdint.h>

#include "privota/result.h"
#include "privota/transport.h"
#include "privota/url_policy.h"

namespace privota {

// Replaces the URL in `url` (url_len bytes, room for kMaxLocationLength + NUL) with the target of
// `location`: an absolute http(s) URL, or a path starting with '/' on the same scheme://host:port. The
// result must pass `policy` (its kUrl* code otherwise); a result over kMaxLocationLength is kUrlTooLong.
// On failure `url` is unchanged.
Status follow_location(char (&url)[kMaxLocationLength + 1], uint16_t& url_len, const char* location,
                       const UrlPolicy& policy);

}  // namespace privota
