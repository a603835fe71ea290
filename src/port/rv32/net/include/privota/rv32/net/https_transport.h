// HttpsTransport: the rv32 device's Transport (privota/transport.h): HTTP/1.1 GET over TlsConnection, one
// connection per exchange ("Connection: close"), responses parsed by http-parser 2.9 (Debian's source
// package). The same contract as the host's CurlTransport: redirects are reported with their Location, not
// followed; Range/If-Range for resuming; Content-Length and chunked bodies; kTruncated when the connection
// ends before Content-Length, kTrailingData when more comes; only identity encoding; kTimeout when the
// connection (TCP + TLS) is not up within the connect timeout or no byte comes for the stall timeout.
//
// Only https URLs: the device fetches nothing in the clear. It has no DNS either: the URL's host is looked
// up in the configured host table (the device's configuration names its update servers' addresses), and
// the certificate must name that host.
#pragma once

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#include "privota/rv32/net/tls_connection.h"
#include "privota/transport.h"

namespace privota::rv32::net {

struct HostAddress {
  const char* name;  // as in URLs, e.g. "updates.example.com"
  uint32_t address;  // IPv4, host byte order
};

struct HttpsTransportOptions {
  const char* ca_pem =
      nullptr;  // NUL-terminated PEM: the only CA the server may chain to (none: trust nothing)
  const HostAddress* hosts = nullptr;
  size_t host_count = 0;
  uint32_t connect_timeout_ms = 5000;  // TCP connect and TLS handshake -> kTimeout
  uint32_t stall_timeout_ms = 5000;    // once connected, no byte of head or body for this long -> kTimeout
};

class HttpsTransport final : public Transport {
 public:
  static constexpr size_t kMaxHostLength = 63;

  explicit HttpsTransport(const HttpsTransportOptions& options);
  HttpsTransport(const HttpsTransport&) = delete;
  HttpsTransport& operator=(const HttpsTransport&) = delete;

  Status open(const HttpRequest& request, HttpResponse& response) override;
  Result<size_t> read(ByteSpan out) override;
  void close() override;

 private:
  struct Target {
    char host[kMaxHostLength + 1];
    uint16_t port;
    const char* path;  // into the request's URL
    size_t path_length;
  };
  Status parse_url(Span<const char> url, Target& target) const;
  Status resolve(const char* host, uint32_t& address) const;
  Status send_request(const HttpRequest& request, const Target& target);
  // Receives up to `limit` bytes and parses them; body bytes land at `body_out`. Returns how many.
  Result<size_t> receive_and_parse(size_t limit, uint8_t* body_out);
  // After the end of the body: kTrailingData if the server sends more before it closes.
  Status expect_close();
  uint32_t stall_deadline() const;

  static int on_header_field(http_parser* parser, const char* at, size_t length);
  static int on_header_value(http_parser* parser, const char* at, size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, size_t length);
  static int on_message_complete(http_parser* parser);
  void header_done();

  HttpsTransportOptions options_;
  TlsConnection tls_;
  Status ca_status_;
  http_parser parser_;
  http_parser_settings settings_;

  // The exchange in progress.
  bool open_ = false;
  HttpResponse* head_ = nullptr;
  bool head_done_ = false;
  bool message_done_ = false;
  bool encoded_ = false;
  bool stream_ended_ = false;  // the server closed (TLS close_notify or TCP FIN)
  uint32_t body_bytes_ = 0;
  // The header being parsed: its name (only known names matter, so 31 bytes are enough) and value.
  char field_[32];
  size_t field_length_ = 0;
  bool field_too_long_ = false;
  char value_[kMaxLocationLength + 1];
  size_t value_length_ = 0;
  bool value_too_long_ = false;
  bool in_value_ = false;
  // Received bytes, parsed whole: body bytes go to body_out_ (the caller's buffer in read(), hold_ while
  // open() reads the head). A chunk of raw_ never holds more body than raw_'s size, so hold_ never overflows.
  uint8_t raw_[1024];
  uint8_t hold_[sizeof raw_];
  size_t hold_begin_ = 0;
  size_t hold_end_ = 0;
  uint8_t* body_out_ = nullptr;
  size_t body_got_ = 0;
};

}  // namespace privota::rv32::net
