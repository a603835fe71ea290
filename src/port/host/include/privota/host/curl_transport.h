// CurlTransport: the host's Transport (privota/transport.h) over libcurl.
//
// libcurl pushes body bytes through a callback; the core pulls them with read(). The bridge is one bounded
// buffer: the write callback takes a chunk only when it fits and otherwise pauses the transfer
// (CURL_WRITEFUNC_PAUSE), and read() resumes it once the buffer has room. libcurl's receive buffer is set to
// the same size, so no chunk is larger than the buffer, and this object never holds more than buffer_bytes
// of body whatever the image size.
//
// Connection rules, none of them optional: HTTPS verifies the peer against ca_pem only (never the system's
// CAs) and the host name; TLS >= 1.2; HTTP/1.1; redirects are reported, not followed; only the URL's own
// scheme; no proxy (not even from the environment), no cookies, no netrc, no Alt-Svc/HSTS. The URL's host is
// the only thing ever contacted.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "privota/transport.h"

namespace privota::host {

struct CurlTransportOptions {
  std::string ca_pem;                  // the CA bundle (PEM text) from the protected app's configuration
  uint32_t connect_timeout_ms = 5000;  // TCP connect and TLS handshake -> kTimeout
  uint32_t stall_timeout_ms = 5000;    // once connected, no byte of head or body for this long -> kTimeout
  size_t buffer_bytes = 16384;         // body bytes held at most; at least kMinBufferBytes
};

class CurlTransport final : public Transport {
 public:
  // libcurl's smallest receive buffer (CURLOPT_BUFFERSIZE); a smaller buffer_bytes is raised to it.
  static constexpr size_t kMinBufferBytes = 1024;

  explicit CurlTransport(CurlTransportOptions options);
  ~CurlTransport();
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Status open(const HttpRequest& request, HttpResponse& response) override;
  Result<size_t> read(ByteSpan out) override;
  void close() override;

  // The most body bytes held at once since construction (never above buffer_bytes): for tests.
  size_t peak_buffered() const { return peak_buffered_; }

 private:
  static size_t on_header(char* data, size_t size, size_t count, void* self);
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  void parse_header_line(const char* line, size_t length);

  Status configure(const HttpRequest& request);
  // Drives libcurl until `ready()` holds or the transfer ends. kTimeout when no byte came for the stall
  // timeout once connected (the connect timeout is libcurl's, before that); the reason names which.
  template <typename Ready>
  Status pump(Ready ready);
  Status transfer_error() const;
  bool request_sent() const;
  size_t buffered() const { return end_ - begin_; }

  CurlTransportOptions options_;
  CURLM* multi_ = nullptr;  // kept across exchanges, so that connections are reused
  CURL* easy_ = nullptr;
  curl_slist* request_headers_ = nullptr;
  std::string url_;
  bool attached_ = false;  // easy_ is in multi_

  // The exchange in progress.
  HttpResponse head_;
  bool head_done_ = false;
  bool got_byte_ = false;      // some byte of this exchange arrived (the connection is up)
  bool got_byte_now_ = false;  // during the current pump step
  bool content_length_too_large_ = false;
  bool paused_ = false;
  bool chunk_too_large_ = false;
  bool done_ = false;
  bool encoded_ = false;        // a Content-Encoding other than identity
  bool trailing_ = false;       // more body than Content-Length arrived
  uint32_t body_bytes_ = 0;     // of this response, as counted against Content-Length
  CURLcode result_ = CURLE_OK;  // once done_

  std::vector<uint8_t> buffer_;
  size_t begin_ = 0;  // first unread body byte in buffer_
  size_t end_ = 0;    // one past the last
  size_t peak_buffered_ = 0;
};

}  // namespace privota::host
