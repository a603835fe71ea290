// Transport: how the OTA job fetches an image, as one small pull interface a port implements (libcurl on the
// host, esp_http_client on a chip). One request at a time: open() sends a GET and reads the status line and
// headers, read() pulls the body in pieces into the caller's buffer, close() ends the exchange.
//
// The port owns the connection rules that are not the job's business: TLS (certificate and host-name
// verification always on, TLS >= 1.2, the CA from the protected app's configuration), the connect timeout
// and the stall timeout. It does NOT follow redirects: a 3xx comes back with its Location, so that the job
// can check every hop against the URL policy.
//
// Errors carry the codes the user app sees through ota_status: kTimeout (connect or stall), kNetwork
// (refused, reset, not resolved), kUntrusted (certificate does not chain to the configured CA),
// kTlsNameMismatch, kTlsError, kTruncated (the connection ended before Content-Length), kTrailingData (more
// body than Content-Length).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/span.h"

namespace privota {

// ETag or Last-Modified, kept in the journal to resume with If-Range. Longer ones are not kept (no resume).
constexpr size_t kMaxValidatorLength = 127;
// A Location longer than this is refused (kUrlTooLong): it could not be passed on or journaled anyway.
constexpr size_t kMaxLocationLength = 479;

struct HttpRequest {
  Span<const char> url;  // already accepted by the URL policy; not NUL-terminated
  // > 0: ask only for bytes [range_start, end) with "Range: bytes=range_start-", and with
  // "If-Range: <if_range>" so that a changed file comes back whole (200) instead of a wrong tail.
  uint32_t range_start = 0;
  Span<const char> if_range;
};

struct HttpResponse {
  uint16_t status = 0;  // 200, 206, 3xx, 4xx, 5xx
  bool has_content_length = false;
  uint32_t content_length = 0;  // of this response's body (for 206: the tail)
  // Content-Range: bytes first-last/total (206 only)
  bool has_content_range = false;
  uint32_t range_first = 0;
  uint32_t range_last = 0;
  uint32_t range_total = 0;
  // Validators, NUL-terminated; empty when absent or longer than kMaxValidatorLength.
  char etag[kMaxValidatorLength + 1] = {};
  char last_modified[kMaxValidatorLength + 1] = {};
  // Location of a 3xx, NUL-terminated; empty when absent. Absolute or relative, as the server sent it.
  char location[kMaxLocationLength + 1] = {};
  bool location_too_long = false;
};

class Transport {
 public:
  // Connects (or reuses a connection), sends the request and reads the response head into `response`. Any
  // status is a successful open(); what it means is the job's decision.
  virtual Status open(const HttpRequest& request, HttpResponse& response) = 0;
  // Reads up to out.size() body bytes: > 0 bytes read, 0 at the end of the body. Blocks at most the port's
  // stall timeout.
  virtual Result<size_t> read(ByteSpan out) = 0;
  // Ends the exchange (also after an error); open() may follow.
  virtual void close() = 0;

 protected:
  ~Transport() = default;
};

// Time for the job's retry backoff.
class Clock {
 public:
  virtual uint64_t now_ms() = 0;
  virtual void sleep_ms(uint32_t ms) = 0;

 protected:
  ~Clock() = default;
};

}  // namespace privota
