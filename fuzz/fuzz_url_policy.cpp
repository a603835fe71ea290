// Fuzzes the URL parser and policy (the text a user app hands to ota_start). Whatever is accepted must be
// what the policy promises: only printable ASCII, a known scheme, a non-empty host inside the text that
// matches an allowed pattern, a path starting with '/', an allowed port; check_url never accepts what
// parse_url refuses.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "privota/url_policy.h"

using namespace privota;

namespace {

const char* const kHosts[] = {"updates.example.com", "*.cdn.example.net", "127.0.0.1", "[::1]"};
const uint16_t kPorts[] = {443, 8443};

bool inside(Span<const char> part, Span<const char> text) {
  return part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Span<const char> text(reinterpret_cast<const char*>(data), size);
  const Result<Url> parsed = parse_url(text);
  UrlPolicy policy;
  policy.allowed_hosts = kHosts;
  policy.allowed_ports = kPorts;
  policy.max_length = 512;
  const Result<Url> checked = check_url(text, policy);
  if (checked.is_ok() && !parsed.is_ok()) __builtin_trap();
  if (!parsed.is_ok()) return 0;
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) __builtin_trap();
  }
  const Url& u = parsed.value();
  if (u.host.empty() || !inside(u.host, text) || u.port == 0) __builtin_trap();
  if (u.path.empty() || u.path[0] != '/') __builtin_trap();
  if (!u.query.empty() && !inside(u.query, text)) __builtin_trap();
  if (checked.is_ok()) {
    if (checked->port != 443 && checked->port != 8443) __builtin_trap();
    if (checked->scheme != UrlScheme::kHttps) __builtin_trap();
  }
  return 0;
}
