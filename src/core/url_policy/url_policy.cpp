#include "privota/url_policy.h"

#include <string.h>

namespace privota {
namespace {

using Text = Span<const char>;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(Text a, Text b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool equals_ignoring_case(Text a, const char* b) {
  return equals_ignoring_case(a, Text(b, strlen(b)));
}

size_t find(Text text, char c, size_t from = 0) {
  for (size_t i = from; i < text.size(); ++i) {
    if (text[i] == c) return i;
  }
  return text.size();
}

// RFC 3986 pchar plus '/' and '?': unreserved, sub-delims, ':', '@', and %-escapes (checked separately).
bool is_path_char(char c) {
  return is_alpha(c) || is_digit(c) || strchr("-._~!$&'()*+,;=:@/?%", c) != nullptr;
}

Status check_characters(Text text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c >= 0x7F) {
      return Status::error(Code::kUrlBadCharacter, "URL contains a space, control or non-ASCII character",
                           static_cast<uint32_t>(i));
    }
  }
  return Status::ok();
}

Status check_path_and_query(Text rest) {
  for (size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '#') return Status::error(Code::kUrlMalformed, "URL has a fragment (#...), which is never sent");
    if (!is_path_char(c)) {
      return Status::error(Code::kUrlBadCharacter, "URL path or query has a character that must be %-escaped",
                           static_cast<uint32_t>(i));
    }
    if (c == '%' && (i + 2 >= rest.size() || !is_hex(rest[i + 1]) || !is_hex(rest[i + 2]))) {
      return Status::error(Code::kUrlBadCharacter, "URL has a % not followed by two hex digits",
                           static_cast<uint32_t>(i));
    }
  }
  return Status::ok();
}

// A DNS name: labels of 1..63 letters, digits and '-', not starting or ending with '-', 253 bytes at most.
bool is_dns_name(Text host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63 || host[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    const char c = host[i];
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    if (label == 0 && c == '-') return false;
    ++label;
  }
  return true;
}

// The hex groups of a ':'-separated run ("" has none); false on an empty group or one over 4 digits.
bool count_groups(Text run, size_t& groups) {
  groups = 0;
  if (run.empty()) return true;
  size_t len = 0;
  for (size_t i = 0; i <= run.size(); ++i) {
    if (i == run.size() || run[i] == ':') {
      if (len == 0) return false;
      ++groups;
      len = 0;
    } else if (is_hex(run[i]) && len < 4) {
      ++len;
    } else {
      return false;
    }
  }
  return true;
}

// Eight hex groups, or fewer around one "::". Embedded IPv4 and zone ids are legal elsewhere but never
// needed to name an update server, so they are refused.
bool is_ipv6(Text host) {
  if (host.size() < 2 || host.size() > 39) return false;
  size_t gap = host.size();
  for (size_t i = 0; i + 1 < host.size(); ++i) {
    if (host[i] == ':' && host[i + 1] == ':') {
      gap = i;
      break;
    }
  }
  size_t left = 0;
  size_t right = 0;
  if (gap == host.size()) return count_groups(host, left) && left == 8;
  return count_groups(host.first(gap), left) && count_groups(host.subspan(gap + 2), right) &&
         left + right <= 7;
}

Status parse_port(Text digits, uint16_t& port) {
  if (digits.empty() || digits.size() > 5 || digits[0] == '0') {
    return Status::error(Code::kUrlMalformed, "URL port is not a number from 1 to 65535 (no leading zeros)");
  }
  uint32_t value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return Status::error(Code::kUrlMalformed, "URL port is not a number from 1 to 65535");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return Status::error(Code::kUrlMalformed, "URL port is above 65535");
  port = static_cast<uint16_t>(value);
  return Status::ok();
}

Status parse_authority(Text authority, Url& url) {
  if (find(authority, '@') != authority.size()) {
    return Status::error(Code::kUrlUserinfo, "URL carries a user name or password (user@host)");
  }
  if (find(authority, '%') != authority.size()) {
    return Status::error(Code::kUrlMalformed, "URL host may not contain %-escapes or zone ids");
  }
  Text port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = find(authority, ']');
    if (close == authority.size()) return Status::error(Code::kUrlMalformed, "URL IPv6 literal has no ']'");
    url.host = authority.subspan(1, close - 1);
    url.ipv6 = true;
    if (!is_ipv6(url.host))
      return Status::error(Code::kUrlMalformed, "URL IPv6 literal is not a valid address");
    const Text after = authority.subspan(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::error(Code::kUrlMalformed, "URL has text after the IPv6 literal");
      port_text = after.subspan(1);
      url.explicit_port = true;
    }
  } else {
    const size_t colon = find(authority, ':');
    url.host = authority.first(colon);
    if (colon < authority.size()) {
      port_text = authority.subspan(colon + 1);
      url.explicit_port = true;
    }
    if (!is_dns_name(url.host)) {
      return Status::error(Code::kUrlMalformed, "URL host is not a valid name or address");
    }
  }
  if (url.explicit_port) return parse_port(port_text, url.port);
  url.port = url.scheme == UrlScheme::kHttps ? 443 : 80;
  return Status::ok();
}

bool host_allowed(const Url& url, const char* pattern) {
  const Text p(pattern, strlen(pattern));
  if (url.ipv6) {
    // Allow-list entries for IPv6 hosts are written as in a URL: in brackets.
    return p.size() == url.host.size() + 2 && p[0] == '[' && p[p.size() - 1] == ']' &&
           equals_ignoring_case(url.host, p.subspan(1, url.host.size()));
  }
  if (p.size() > 2 && p[0] == '*' && p[1] == '.') {
    const Text suffix = p.subspan(1);  // ".example.com": at least one label must come before it
    return url.host.size() > suffix.size() &&
           equals_ignoring_case(url.host.subspan(url.host.size() - suffix.size()), suffix);
  }
  return equals_ignoring_case(url.host, p);
}

}  // namespace

Result<Url> parse_url(Text text) {
  if (text.size() > kMaxUrlLength) {
    return Status::error(Code::kUrlTooLong, "URL is longer than any update URL may be",
                         static_cast<uint32_t>(text.size()));
  }
  PRIVOTA_TRY(check_characters(text));
  const size_t colon = find(text, ':');
  if (colon == text.size() || text.size() < colon + 3 || text[colon + 1] != '/' || text[colon + 2] != '/') {
    return Status::error(Code::kUrlMalformed, "URL does not start with scheme://");
  }
  Url url;
  const Text scheme = text.first(colon);
  if (equals_ignoring_case(scheme, "https")) {
    url.scheme = UrlScheme::kHttps;
  } else if (equals_ignoring_case(scheme, "http")) {
    url.scheme = UrlScheme::kHttp;
  } else {
    return Status::error(Code::kUrlSchemeNotAllowed, "URL scheme is neither https nor http");
  }
  const Text rest = text.subspan(colon + 3);
  size_t authority_end = 0;
  while (authority_end < rest.size() && rest[authority_end] != '/' && rest[authority_end] != '?' &&
         rest[authority_end] != '#') {
    ++authority_end;
  }
  PRIVOTA_TRY(parse_authority(rest.first(authority_end), url));
  const Text tail = rest.subspan(authority_end);
  PRIVOTA_TRY(check_path_and_query(tail));
  const size_t question = find(tail, '?');
  url.path = tail.first(question);
  if (url.path.empty()) url.path = Text("/", 1);
  if (question < tail.size()) url.query = tail.subspan(question + 1);
  return url;
}

Status check_host_pattern(Text pattern) {
  if (pattern.size() > 2 && pattern[0] == '[' && pattern[pattern.size() - 1] == ']') {
    if (is_ipv6(pattern.subspan(1, pattern.size() - 2))) return Status::ok();
    return Status::error(Code::kUrlMalformed, "allowed host is not a valid [IPv6] address");
  }
  const bool wildcard = pattern.size() >= 2 && pattern[0] == '*' && pattern[1] == '.';
  if (is_dns_name(wildcard ? pattern.subspan(2) : pattern)) return Status::ok();
  return Status::error(Code::kUrlMalformed,
                       "allowed host is not a host name, an IP address, *.name or [IPv6] (no scheme, port, "
                       "path or spaces)");
}

Result<Url> check_url(Text text, const UrlPolicy& policy) {
  if (text.size() > policy.max_length) {
    return Status::error(Code::kUrlTooLong, "URL is longer than the device's policy allows",
                         static_cast<uint32_t>(text.size()));
  }
  PRIVOTA_ASSIGN_OR_RETURN(const Url url, parse_url(text));
  if (url.scheme == UrlScheme::kHttp && !policy.allow_http) {
    return Status::error(Code::kUrlSchemeNotAllowed,
                         "URL is not https; the device only downloads over https");
  }
  bool host_ok = false;
  for (const char* pattern : policy.allowed_hosts)
    host_ok = host_ok || host_allowed(url, pattern);
  if (!host_ok)
    return Status::error(Code::kUrlHostNotAllowed, "URL host is not one the device may update from");
  const uint16_t default_port = url.scheme == UrlScheme::kHttps ? 443 : 80;
  bool port_ok = policy.allowed_ports.empty() && url.port == default_port;
  for (uint16_t p : policy.allowed_ports)
    port_ok = port_ok || p == url.port;
  if (!port_ok)
    return Status::error(Code::kUrlPortNotAllowed, "URL port is not one the device may use", url.port);
  return url;
}

}  // namespace privota
