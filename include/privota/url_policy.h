// URL checks for ota_start: a strict parser for the URLs an update may come from, and the protected app's
// policy over them. Everything a user app passes is refused unless it is exactly
//   scheme://host[:port][/path][?query]
// with an allowed scheme, host and port, within the length limit. Each refusal has its own Code
// (kUrl*), which reaches the user app through ota_start's answer.
//
// Strict on purpose: no userinfo (user:pass@ hides the real host from people reading logs), no fragment
// (never sent to a server), no whitespace, control or non-ASCII characters (they are how request smuggling
// and log injection start), %-escapes must be well formed and are not allowed in the host, a host is either
// a DNS name (labels of letters, digits, '-') or an IP literal ([IPv6] in brackets, no zone ids), ports are
// 1..65535 without leading zeros. Nothing is ever truncated: too long is an error.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/span.h"

namespace privota {

enum class UrlScheme : uint8_t { kHttps, kHttp };

struct Url {
  UrlScheme scheme = UrlScheme::kHttps;
  // Views into the checked text (not NUL-terminated).
  Span<const char> host;  // without brackets for IPv6
  bool ipv6 = false;
  uint16_t port = 0;  // the explicit port, or the scheme's default
  bool explicit_port = false;
  Span<const char> path;   // starts with '/'; "/" when the URL has none
  Span<const char> query;  // after '?', may be empty
};

// Parses without judging scheme, host or port against a policy (kUrlMalformed, kUrlBadCharacter,
// kUrlUserinfo, kUrlTooLong over kMaxUrlLength, kUrlSchemeNotAllowed for schemes other than http/https).
constexpr size_t kMaxUrlLength = 2048;
Result<Url> parse_url(Span<const char> text);

struct UrlPolicy {
  bool allow_http = false;  // https only unless the device owner says otherwise
  // Exact host names (case-insensitive), "*.suffix" for any name below suffix, or IP literals ("[::1]" for
  // IPv6). Empty: no host is allowed.
  Span<const char* const> allowed_hosts;
  // Allowed ports. Empty: only the scheme's default port (443, or 80 for http).
  Span<const uint16_t> allowed_ports;
  size_t max_length = 256;
};

// Parses and judges `text` (its length is the span's size; a NUL inside it is a bad character).
Result<Url> check_url(Span<const char> text, const UrlPolicy& policy);

// Checks one allowed_hosts entry as UrlPolicy reads it: a host name (or IPv4 address), "*." before a host
// name, or "[IPv6]". kUrlMalformed otherwise: such an entry would silently never match.
Status check_host_pattern(Span<const char> pattern);

}  // namespace privota
