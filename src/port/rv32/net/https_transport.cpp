#include "privota/rv32/net/https_transport.h"

#include <string.h>

#include "privota/rv32/net/network.h"

namespace privota::rv32::net {
namespace {

constexpr uint16_t kHttpsPort = 443;
constexpr uint32_t kTrailingGraceMs = 200;

bool same_nocase(const char* a, size_t length, const char* b) {
  if (strlen(b) != length) return false;
  for (size_t i = 0; i < length; ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Printable ASCII without spaces: nothing that could end a request line or start a header.
bool is_token_text(const char* text, size_t length, bool allow_space) {
  for (size_t i = 0; i < length; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7F || (c == ' ' && !allow_space)) return false;
  }
  return true;
}

bool parse_decimal(const char* text, size_t length, uint64_t max, uint64_t& out) {
  if (length == 0 || length > 19) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

// "bytes first-last/total"
bool parse_content_range(const char* text, size_t length, HttpResponse& head) {
  if (length < 6 || strncmp(text, "bytes ", 6) != 0) return false;
  const char* p = text + 6;
  const char* end = text + length;
  const char* dash = static_cast<const char*>(memchr(p, '-', static_cast<size_t>(end - p)));
  if (dash == nullptr) return false;
  const char* slash = static_cast<const char*>(memchr(dash, '/', static_cast<size_t>(end - dash)));
  if (slash == nullptr) return false;
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t total = 0;
  if (!parse_decimal(p, static_cast<size_t>(dash - p), UINT32_MAX, first) ||
      !parse_decimal(dash + 1, static_cast<size_t>(slash - dash - 1), UINT32_MAX, last) ||
      !parse_decimal(slash + 1, static_cast<size_t>(end - slash - 1), UINT32_MAX, total) || first > last ||
      last >= total)
    return false;
  head.range_first = static_cast<uint32_t>(first);
  head.range_last = static_cast<uint32_t>(last);
  head.range_total = static_cast<uint32_t>(total);
  return true;
}

// Appends text to a request being built; false when it does not fit.
struct Writer {
  uint8_t* out;
  size_t size;
  size_t used = 0;
  bool put(const char* text, size_t length) {
    if (length > size - used) return false;
    memcpy(out + used, text, length);
    used += length;
    return true;
  }
  bool put(const char* text) { return put(text, strlen(text)); }
  bool put_dec(uint32_t value) {
    char digits[10];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    char text[10];
    for (size_t i = 0; i < n; ++i)
      text[i] = digits[n - 1 - i];
    return put(text, n);
  }
};

HttpsTransport& self(http_parser* parser) {
  return *static_cast<HttpsTransport*>(parser->data);
}

}  // namespace

HttpsTransport::HttpsTransport(const HttpsTransportOptions& options) : options_(options) {
  // Without a CA nothing is trusted: every connection ends in kUntrusted (TlsConnection::connect).
  const bool has_ca = options.ca_pem != nullptr && options.ca_pem[0] != '\0';
  ca_status_ = has_ca ? tls_.load_ca(options.ca_pem) : Status::ok();
  http_parser_settings_init(&settings_);
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
}

Status HttpsTransport::parse_url(Span<const char> url, Target& target) const {
  const char* p = url.data();
  const char* end = p + url.size();
  if (!is_token_text(p, url.size(), false))
    return Status::error(Code::kInvalidArgument, "the URL has a space or control character");
  const char* scheme_end = nullptr;
  for (const char* q = p; q + 2 < end; ++q) {
    if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
      scheme_end = q;
      break;
    }
  }
  if (scheme_end == nullptr) return Status::error(Code::kUrlMalformed, "the URL is not scheme://host/path");
  if (!same_nocase(p, static_cast<size_t>(scheme_end - p), "https"))
    return Status::error(Code::kUrlSchemeNotAllowed, "the rv32 transport fetches https URLs only");
  const char* host = scheme_end + 3;
  const char* host_end = host;
  while (host_end < end && *host_end != ':' && *host_end != '/' && *host_end != '?')
    ++host_end;
  const size_t host_length = static_cast<size_t>(host_end - host);
  if (host_length == 0 || host_length > kMaxHostLength)
    return Status::error(Code::kUrlMalformed, "the URL's host is empty or too long");
  for (const char* c = host; c < host_end; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                    *c == '-' || *c == '.';
    if (!ok) return Status::error(Code::kUrlMalformed, "the URL's host is not a name or IPv4 address");
  }
  memcpy(target.host, host, host_length);
  target.host[host_length] = '\0';
  target.port = kHttpsPort;
  const char* rest = host_end;
  if (rest < end && *rest == ':') {
    const char* port = rest + 1;
    rest = port;
    while (rest < end && *rest != '/' && *rest != '?')
      ++rest;
    uint64_t number = 0;
    if (!parse_decimal(port, static_cast<size_t>(rest - port), 65535, number) || number == 0)
      return Status::error(Code::kUrlMalformed, "the URL's port is not 1..65535");
    target.port = static_cast<uint16_t>(number);
  }
  target.path = rest;
  target.path_length = static_cast<size_t>(end - rest);
  return Status::ok();
}

Status HttpsTransport::resolve(const char* host, uint32_t& address) const {
  for (size_t i = 0; i < options_.host_count; ++i) {
    if (same_nocase(host, strlen(host), options_.hosts[i].name)) {
      address = options_.hosts[i].address;
      return Status::ok();
    }
  }
  return Status::error(Code::kNetwork, "the URL's host is not in the device's host table (not resolved)");
}

Status HttpsTransport::send_request(const HttpRequest& request, const Target& target) {
  Writer w{raw_, sizeof raw_};
  bool fits = w.put("GET ");
  fits = fits && (target.path_length == 0 || target.path[0] == '?' ? w.put("/") : true);
  fits = fits && w.put(target.path, target.path_length) && w.put(" HTTP/1.1\r\nHost: ") && w.put(target.host);
  if (target.port != kHttpsPort) fits = fits && w.put(":") && w.put_dec(target.port);
  fits = fits && w.put("\r\nUser-Agent: privota-rv32\r\nAccept-Encoding: identity\r\nConnection: close\r\n");
  if (request.range_start > 0) {
    fits = fits && w.put("Range: bytes=") && w.put_dec(request.range_start) && w.put("-\r\n");
    if (request.if_range.size() > 0)
      fits = fits && w.put("If-Range: ") && w.put(request.if_range.data(), request.if_range.size()) &&
             w.put("\r\n");
  }
  fits = fits && w.put("\r\n");
  if (!fits) return Status::error(Code::kInvalidArgument, "the request does not fit the transport's buffer");
  return tls_.send(raw_, w.used, stall_deadline());
}

uint32_t HttpsTransport::stall_deadline() const {
  return now_ms() + options_.stall_timeout_ms;
}

Status HttpsTransport::open(const HttpRequest& request, HttpResponse& response) {
  close();
  response = HttpResponse{};
  if (!ca_status_.is_ok()) return ca_status_;
  if (!is_token_text(request.if_range.data(), request.if_range.size(), true))
    return Status::error(Code::kInvalidArgument, "the If-Range validator has a control character");
  Target target;
  PRIVOTA_TRY(parse_url(request.url, target));
  uint32_t address = 0;
  PRIVOTA_TRY(resolve(target.host, address));
  PRIVOTA_TRY(tls_.connect(address, target.port, target.host, now_ms() + options_.connect_timeout_ms));
  open_ = true;
  Status sent = send_request(request, target);
  if (!sent.is_ok()) {
    close();
    return sent;
  }

  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  head_ = &response;
  while (!head_done_) {
    const Result<size_t> got = receive_and_parse(sizeof raw_, hold_ + hold_end_);
    if (!got.is_ok()) {
      const Status error = got.status().code() == Code::kTimeout
                               ? Status::error(Code::kTimeout,
                                               "connected, but no response head within the "
                                               "stall timeout")
                               : got.status();
      close();
      return error;
    }
    if (!head_done_ && *got == 0) {
      close();
      return Status::error(Code::kNetwork, "the server closed the connection before a response head");
    }
    hold_end_ += body_got_;
  }
  if (encoded_) {
    close();
    return Status::error(Code::kUnsupported, "the server sent a Content-Encoding other than identity");
  }
  return Status::ok();
}

Result<size_t> HttpsTransport::receive_and_parse(size_t limit, uint8_t* body_out) {
  body_out_ = body_out;
  body_got_ = 0;
  const Result<size_t> got = tls_.receive(raw_, limit < sizeof raw_ ? limit : sizeof raw_, stall_deadline());
  if (!got.is_ok()) return got.status();
  if (*got == 0) stream_ended_ = true;
  // 0 is the end of the stream: the parser decides whether the message was complete (a body read to EOF).
  const size_t parsed = http_parser_execute(&parser_, &settings_, reinterpret_cast<const char*>(raw_), *got);
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (message_done_) {
    // on_message_complete paused the parser right after the body: anything behind it is too much.
    if (parsed < *got)
      return Status::error(Code::kTrailingData, "more body than Content-Length", body_bytes_);
  } else if (error != HPE_OK) {
    if (*got == 0 && head_done_)
      return Status::error(Code::kTruncated, "the connection ended before the end of the body", body_bytes_);
    return Status::error(Code::kNetwork, "the server's response is not valid HTTP/1.1",
                         static_cast<uint32_t>(error));
  } else if (*got == 0 && head_done_) {
    return Status::error(Code::kTruncated, "the connection ended before the end of the body", body_bytes_);
  }
  return *got;
}

Result<size_t> HttpsTransport::read(ByteSpan out) {
  if (!open_ || !head_done_) return Status::error(Code::kBadState, "read without an open exchange");
  if (out.size() == 0) return size_t{0};
  if (hold_begin_ < hold_end_) {
    size_t n = hold_end_ - hold_begin_;
    if (n > out.size()) n = out.size();
    memcpy(out.data(), hold_ + hold_begin_, n);
    hold_begin_ += n;
    return n;
  }
  for (;;) {
    if (message_done_) {
      PRIVOTA_TRY(expect_close());
      return size_t{0};
    }
    const Result<size_t> got = receive_and_parse(out.size(), out.data());
    if (!got.is_ok()) return got.status();
    if (body_got_ > 0) return body_got_;
    // Only framing (a chunk size line) came, or the stream ended: go on until body bytes or the end.
    if (*got == 0 && !message_done_)
      return Status::error(Code::kTruncated, "the connection ended before the end of the body", body_bytes_);
  }
}

Status HttpsTransport::expect_close() {
  if (stream_ended_) return Status::ok();
  // Servers close right after the body they were asked to ("Connection: close"); a little grace catches
  // extra bytes already on their way, without holding every download up for a server that lingers.
  uint8_t byte = 0;
  const Result<size_t> more = tls_.receive(&byte, 1, now_ms() + kTrailingGraceMs);
  stream_ended_ = true;
  if (more.is_ok() && *more > 0)
    return Status::error(Code::kTrailingData, "more body than Content-Length", body_bytes_);
  return Status::ok();
}

void HttpsTransport::close() {
  tls_.close();
  open_ = head_done_ = message_done_ = encoded_ = stream_ended_ = false;
  head_ = nullptr;
  body_bytes_ = 0;
  field_length_ = value_length_ = 0;
  field_too_long_ = value_too_long_ = in_value_ = false;
  hold_begin_ = hold_end_ = 0;
  body_out_ = nullptr;
  body_got_ = 0;
}

int HttpsTransport::on_header_field(http_parser* parser, const char* at, size_t length) {
  HttpsTransport& t = self(parser);
  if (t.in_value_) {
    t.header_done();
    t.in_value_ = false;
  }
  if (length > sizeof t.field_ - 1 - t.field_length_) {
    t.field_too_long_ = true;
    return 0;
  }
  memcpy(t.field_ + t.field_length_, at, length);
  t.field_length_ += length;
  return 0;
}

int HttpsTransport::on_header_value(http_parser* parser, const char* at, size_t length) {
  HttpsTransport& t = self(parser);
  t.in_value_ = true;
  if (length > sizeof t.value_ - 1 - t.value_length_) {
    t.value_too_long_ = true;
    return 0;
  }
  memcpy(t.value_ + t.value_length_, at, length);
  t.value_length_ += length;
  return 0;
}

// One whole header: keep what the contract needs (http-parser itself handles Content-Length and chunking).
void HttpsTransport::header_done() {
  const char* name = field_;
  const size_t name_length = field_too_long_ ? 0 : field_length_;
  size_t length = value_length_;
  while (length > 0 && (value_[length - 1] == ' ' || value_[length - 1] == '\t'))
    --length;
  value_[length] = '\0';
  auto is = [&](const char* known) { return same_nocase(name, name_length, known); };
  auto keep = [&](char* field, size_t size) {
    if (!value_too_long_ && length < size) memcpy(field, value_, length + 1);
  };
  if (is("Content-Range")) {
    head_->has_content_range = !value_too_long_ && parse_content_range(value_, length, *head_);
  } else if (is("Content-Encoding")) {
    encoded_ = value_too_long_ || !same_nocase(value_, length, "identity");
  } else if (is("ETag")) {
    keep(head_->etag, sizeof head_->etag);
  } else if (is("Last-Modified")) {
    keep(head_->last_modified, sizeof head_->last_modified);
  } else if (is("Location")) {
    head_->location_too_long = value_too_long_ || length > kMaxLocationLength;
    keep(head_->location, sizeof head_->location);
  }
  field_length_ = value_length_ = 0;
  field_too_long_ = value_too_long_ = false;
}

int HttpsTransport::on_headers_complete(http_parser* parser) {
  HttpsTransport& t = self(parser);
  if (t.in_value_) t.header_done();
  t.in_value_ = false;
  if (parser->status_code < 200) {
    // An interim response (100 Continue): the real head follows.
    *t.head_ = HttpResponse{};
    t.encoded_ = false;
    return 0;
  }
  t.head_->status = static_cast<uint16_t>(parser->status_code);
  const bool chunked = (parser->flags & F_CHUNKED) != 0;
  if (!chunked && parser->content_length != UINT64_MAX && parser->content_length <= UINT32_MAX) {
    t.head_->has_content_length = true;
    t.head_->content_length = static_cast<uint32_t>(parser->content_length);
  }
  t.head_done_ = true;
  return 0;
}

int HttpsTransport::on_body(http_parser* parser, const char* at, size_t length) {
  HttpsTransport& t = self(parser);
  memcpy(t.body_out_ + t.body_got_, at, length);
  t.body_got_ += length;
  t.body_bytes_ += static_cast<uint32_t>(length);
  return 0;
}

int HttpsTransport::on_message_complete(http_parser* parser) {
  HttpsTransport& t = self(parser);
  if (!t.head_done_) return 0;  // the end of an interim response
  t.message_done_ = true;
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace privota::rv32::net
