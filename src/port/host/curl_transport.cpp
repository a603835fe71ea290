#include "privota/host/curl_transport.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

namespace privota::host {
namespace {

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

// curl_global_init is not thread-safe before 7.84 and must run once before any handle exists.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

constexpr long kCurlNotVerified = 1;
// OpenSSL's X509_V_ERR_* (include/openssl/x509_vfy.h): a certificate outside its validity dates.
constexpr long kOpenSslCertNotYetValid = 9;
constexpr long kOpenSslCertHasExpired = 10;
constexpr long kOpenSslHostnameMismatch = 62;
constexpr long kOpenSslIpAddressMismatch = 64;

bool starts_with_nocase(const char* text, size_t length, const char* prefix) {
  const size_t n = strlen(prefix);
  return length >= n && strncasecmp(text, prefix, n) == 0;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Digits only, no sign, no blanks: the whole of `text` as a number, or false (also when above `max`).
bool parse_number(const char* text, size_t length, uint64_t max, uint64_t& out) {
  if (length == 0) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Copies a header value into a fixed, NUL-terminated field if it fits (and holds no NUL); false otherwise.
template <size_t N>
bool copy_field(char (&field)[N], const char* value, size_t length) {
  field[0] = '\0';
  if (length > N - 1 || memchr(value, '\0', length) != nullptr) return false;
  memcpy(field, value, length);
  field[length] = '\0';
  return true;
}

// "bytes first-last/total" (RFC 9110 section 14.4); "*" totals and anything else are not a usable range.
bool parse_content_range(const char* value, size_t length, HttpResponse& response) {
  if (!starts_with_nocase(value, length, "bytes ")) return false;
  const char* p = value + 6;
  const char* end = value + length;
  const char* dash = static_cast<const char*>(memchr(p, '-', static_cast<size_t>(end - p)));
  if (dash == nullptr) return false;
  const char* slash = static_cast<const char*>(memchr(dash, '/', static_cast<size_t>(end - dash)));
  if (slash == nullptr) return false;
  uint64_t first = 0, last = 0, total = 0;
  if (!parse_number(p, static_cast<size_t>(dash - p), UINT32_MAX, first) ||
      !parse_number(dash + 1, static_cast<size_t>(slash - dash - 1), UINT32_MAX, last) ||
      !parse_number(slash + 1, static_cast<size_t>(end - slash - 1), UINT32_MAX, total) || first > last ||
      last >= total)
    return false;
  response.range_first = static_cast<uint32_t>(first);
  response.range_last = static_cast<uint32_t>(last);
  response.range_total = static_cast<uint32_t>(total);
  return true;
}

// The scheme libcurl may use for this URL: only the URL's own, so https never turns into http.
const char* scheme_of(const std::string& url) {
  if (starts_with_nocase(url.data(), url.size(), "https://")) return "https";
  if (starts_with_nocase(url.data(), url.size(), "http://")) return "http";
  return nullptr;
}

bool has_line_break(Span<const char> text) {
  for (char c : text)
    if (c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  init_curl_once();
  options_.buffer_bytes =
      std::clamp(options_.buffer_bytes, kMinBufferBytes, static_cast<size_t>(CURL_MAX_READ_SIZE));
  buffer_.resize(options_.buffer_bytes);
  multi_ = curl_multi_init();
  easy_ = curl_easy_init();
}

CurlTransport::~CurlTransport() {
  close();
  if (easy_ != nullptr) curl_easy_cleanup(easy_);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

Status CurlTransport::configure(const HttpRequest& request) {
  url_.assign(request.url.data(), request.url.size());
  const char* scheme = scheme_of(url_);
  if (scheme == nullptr)
    return Status::error(Code::kUrlSchemeNotAllowed, "transport speaks http and https only");
  if (has_line_break(request.if_range))
    return Status::error(Code::kInvalidArgument, "If-Range value holds a line break");

  curl_easy_reset(easy_);
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy_, option, value);
  };
  set(CURLOPT_URL, url_.c_str());
  set(CURLOPT_PROTOCOLS_STR, scheme);
  set(CURLOPT_REDIR_PROTOCOLS_STR, scheme);
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  // Nothing but the URL's host: no proxy (an empty CURLOPT_PROXY also ignores http_proxy & co.), no netrc.
  set(CURLOPT_PROXY, "");
  set(CURLOPT_NOPROXY, "*");
  set(CURLOPT_NETRC, static_cast<long>(CURL_NETRC_IGNORED));
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_USERAGENT, "privota");
  // The bytes written to flash are the file's: no compression asked for (libcurl would not decode it,
  // CURLOPT_ACCEPT_ENCODING stays unset) and any other Content-Encoding refused in open().
  // The body is counted here, not by libcurl, which stops at Content-Length and drops what follows: with
  // the length ignored and the connection closed after the response, a body longer than announced is
  // seen (kTrailingData) instead of silently cut.
  set(CURLOPT_IGNORE_CONTENT_LENGTH, 1L);
  // TLS: the configured CA only. The blob replaces nothing by itself: the built-in CA file and path are
  // switched off explicitly, so a system CA can never vouch for an update server.
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
  set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  curl_blob ca{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(), CURL_BLOB_COPY};
  set(CURLOPT_CAINFO_BLOB, &ca);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  set(CURLOPT_BUFFERSIZE, static_cast<long>(buffer_.size()));
  request_headers_ = curl_slist_append(nullptr, "Accept-Encoding: identity");
  if (request_headers_ != nullptr)
    request_headers_ = curl_slist_append(request_headers_, "Connection: close");
  if (request_headers_ == nullptr) return Status::error(Code::kIoError, "out of memory for request headers");
  set(CURLOPT_HEADERFUNCTION, &CurlTransport::on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(this));
  set(CURLOPT_WRITEFUNCTION, &CurlTransport::on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(this));
  if (request.range_start > 0) {
    const std::string range = std::to_string(request.range_start) + "-";  // "Range: bytes=N-"
    set(CURLOPT_RANGE, range.c_str());                                    // copied by libcurl
    if (!request.if_range.empty()) {
      const std::string line = "If-Range: " + std::string(request.if_range.data(), request.if_range.size());
      curl_slist* more = curl_slist_append(request_headers_, line.c_str());
      if (more == nullptr) return Status::error(Code::kIoError, "out of memory for request headers");
      request_headers_ = more;
    }
  }
  set(CURLOPT_HTTPHEADER, request_headers_);
  if (rc != CURLE_OK) return Status::error(Code::kUnsupported, "libcurl refused a required option", rc);
  return Status::ok();
}

Status CurlTransport::open(const HttpRequest& request, HttpResponse& response) {
  close();
  if (multi_ == nullptr || easy_ == nullptr)
    return Status::error(Code::kIoError, "libcurl did not initialise");
  PRIVOTA_TRY(configure(request));
  if (curl_multi_add_handle(multi_, easy_) != CURLM_OK)
    return Status::error(Code::kIoError, "libcurl refused the transfer");
  attached_ = true;

  PRIVOTA_TRY(pump([this] { return head_done_; }));
  if (!head_done_) {
    if (result_ != CURLE_OK) return transfer_error();
    return Status::error(Code::kNetwork, "the server closed without a response head");
  }
  if (content_length_too_large_) return Status::error(Code::kLimitExceeded, "Content-Length above 4 GiB");
  if (encoded_)
    return Status::error(Code::kUnsupported, "the server sent a Content-Encoding other than identity");
  response = head_;
  return Status::ok();
}

Result<size_t> CurlTransport::read(ByteSpan out) {
  if (!attached_ || !head_done_) return Status::error(Code::kBadState, "read() without a successful open()");
  if (out.empty()) return Status::error(Code::kInvalidArgument, "read() into an empty buffer");
  if (buffered() == 0 && !done_) {
    // The buffer is empty, so whatever chunk libcurl held back now fits.
    if (paused_) {
      paused_ = false;
      if (curl_easy_pause(easy_, CURLPAUSE_CONT) != CURLE_OK)
        return Status::error(Code::kIoError, "libcurl could not resume the transfer");
    }
    const Status pumped = pump([this] { return buffered() > 0; });
    // After the whole announced body the server should close (we asked it to); one that keeps the
    // connection open instead has still delivered the file.
    const bool body_complete = head_.has_content_length && body_bytes_ == head_.content_length;
    if (!pumped.is_ok() && !(pumped.code() == Code::kTimeout && body_complete)) return pumped;
  }
  if (buffered() == 0) {
    PRIVOTA_TRY(transfer_error());  // ok at a clean end of the whole body
    return size_t{0};
  }
  const size_t n = std::min(out.size(), buffered());
  memcpy(out.data(), buffer_.data() + begin_, n);
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
  return n;
}

void CurlTransport::close() {
  if (attached_) curl_multi_remove_handle(multi_, easy_);  // an unfinished transfer's connection is dropped
  attached_ = false;
  curl_slist_free_all(request_headers_);
  request_headers_ = nullptr;
  head_ = HttpResponse{};
  head_done_ = got_byte_ = content_length_too_large_ = paused_ = chunk_too_large_ = done_ = false;
  encoded_ = trailing_ = false;
  body_bytes_ = 0;
  result_ = CURLE_OK;
  begin_ = end_ = 0;
}

bool CurlTransport::request_sent() const {
  // libcurl stamps PRETRANSFER once the connection (TCP, TLS) is up and the request goes out, also on a
  // reused connection; until then its own connect timeout runs.
  curl_off_t pretransfer = 0;
  return curl_easy_getinfo(easy_, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK && pretransfer > 0;
}

// Each timeout is what its name says: connect_timeout_ms until the connection is up (libcurl's
// CURLOPT_CONNECTTIMEOUT_MS, reported by transfer_error()); from then on stall_timeout_ms without a byte,
// the response head included.
template <typename Ready>
Status CurlTransport::pump(Ready ready) {
  const uint64_t start = now_ms();
  bool connected = got_byte_ || request_sent();
  // Before the connection is up, a backstop only: libcurl's connect timeout fires first.
  uint64_t deadline = start + options_.stall_timeout_ms + (connected ? 0 : options_.connect_timeout_ms);
  for (;;) {
    got_byte_now_ = false;
    int running = 0;
    if (curl_multi_perform(multi_, &running) != CURLM_OK)
      return Status::error(Code::kIoError, "libcurl multi interface failed");
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy_) {
        done_ = true;
        result_ = message->data.result;
      }
    }
    if (ready() || done_) return Status::ok();
    const uint64_t now = now_ms();
    if (!connected && request_sent()) {
      connected = true;
      deadline = now + options_.stall_timeout_ms;
    }
    if (got_byte_now_) deadline = now + options_.stall_timeout_ms;
    if (now >= deadline) {
      if (!connected) return Status::error(Code::kTimeout, "no connection within the connect timeout");
      if (!got_byte_)
        return Status::error(Code::kTimeout, "connected, but no response head within the stall timeout");
      return Status::error(Code::kTimeout, "no byte from the server within the stall timeout");
    }
    const int wait_ms = static_cast<int>(std::min<uint64_t>(deadline - now, 1000));
    if (curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr) != CURLM_OK)
      return Status::error(Code::kIoError, "libcurl multi interface failed");
  }
}

Status CurlTransport::transfer_error() const {
  if (chunk_too_large_)
    return Status::error(Code::kLimitExceeded, "libcurl delivered more than the buffer holds");
  if (trailing_) return Status::error(Code::kTrailingData, "more body than Content-Length", body_bytes_);
  // Content-Length is counted here (see configure()): the stream ended before it, cleanly or not.
  const bool short_body = head_done_ && head_.has_content_length && body_bytes_ < head_.content_length;
  if (short_body && (result_ == CURLE_OK || result_ == CURLE_RECV_ERROR || result_ == CURLE_PARTIAL_FILE))
    return Status::error(Code::kTruncated, "the connection ended before Content-Length", body_bytes_);
  switch (result_) {
    case CURLE_OK:
      return Status::ok();
    case CURLE_OPERATION_TIMEDOUT:
      return Status::error(Code::kTimeout, "no connection within the connect timeout");
    case CURLE_COULDNT_RESOLVE_HOST:
      return Status::error(Code::kNetwork, "host name not resolved");
    case CURLE_COULDNT_CONNECT:
      return Status::error(Code::kNetwork, "connection refused or host unreachable");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return Status::error(Code::kNetwork, "connection broke");
    case CURLE_WEIRD_SERVER_REPLY:
      return Status::error(Code::kNetwork, "the server's reply is not HTTP/1.1");
    case CURLE_PARTIAL_FILE:
      return Status::error(Code::kTruncated, "the connection ended before Content-Length");
    case CURLE_PEER_FAILED_VERIFICATION: {
      long verify = 0;
      curl_easy_getinfo(easy_, CURLINFO_SSL_VERIFYRESULT, &verify);
      // A chain failure ends the handshake, and libcurl stores OpenSSL's reason (X509_V_ERR_*, >= 2). The
      // host name is checked after the handshake, by libcurl, before it stores the (good) chain result, so
      // then the value is still its "not verified" placeholder !X509_V_OK == 1 (7.88 lib/vtls/openssl.c);
      // a name checked by OpenSSL itself fails with X509_V_ERR_HOSTNAME_MISMATCH 62 or _IP_ADDRESS_ 64.
      // The dates are checked with the chain: a certificate from the right CA but outside its dates is
      // named as such (a wrong clock or a server that forgot to renew), not as an unknown CA.
      if (verify == kOpenSslCertHasExpired)
        return Status::error(Code::kUntrusted, "server certificate has expired",
                             static_cast<uint32_t>(verify));
      if (verify == kOpenSslCertNotYetValid)
        return Status::error(Code::kUntrusted, "server certificate is not valid yet (check the clock)",
                             static_cast<uint32_t>(verify));
      if (verify > kCurlNotVerified && verify != kOpenSslHostnameMismatch &&
          verify != kOpenSslIpAddressMismatch)
        return Status::error(Code::kUntrusted, "server certificate does not chain to the configured CA",
                             static_cast<uint32_t>(verify));
      return Status::error(Code::kTlsNameMismatch, "server certificate is not for the host in the URL");
    }
    case CURLE_SSL_CACERT_BADFILE:
      return Status::error(Code::kTlsError, "the configured CA bundle could not be loaded");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return Status::error(Code::kTlsError, "TLS handshake failed");
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::error(Code::kUrlSchemeNotAllowed, "scheme not allowed for this transfer");
    case CURLE_URL_MALFORMAT:
      return Status::error(Code::kUrlMalformed, "libcurl could not parse the URL");
    case CURLE_OUT_OF_MEMORY:
      return Status::error(Code::kIoError, "libcurl ran out of memory");
    default:
      return Status::error(Code::kNetwork, "transfer failed", static_cast<uint32_t>(result_));
  }
}

size_t CurlTransport::on_header(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<CurlTransport*>(self);
  const size_t n = size * count;
  t->got_byte_ = t->got_byte_now_ = true;
  size_t length = n;
  while (length > 0 && (data[length - 1] == '\r' || data[length - 1] == '\n'))
    --length;
  t->parse_header_line(data, length);
  return n;
}

void CurlTransport::parse_header_line(const char* line, size_t length) {
  if (starts_with_nocase(line, length, "HTTP/")) {
    // A new response head (the one after a 1xx starts over).
    head_ = HttpResponse{};
    head_done_ = content_length_too_large_ = encoded_ = false;
    body_bytes_ = 0;
    const char* space = static_cast<const char*>(memchr(line, ' ', length));
    uint64_t status = 0;
    if (space != nullptr && line + length - space > 3 && parse_number(space + 1, 3, 999, status))
      head_.status = static_cast<uint16_t>(status);
    return;
  }
  if (length == 0) {
    if (head_.status >= 200) head_done_ = true;
    return;
  }
  const char* colon = static_cast<const char*>(memchr(line, ':', length));
  if (colon == nullptr) return;
  const size_t name_length = static_cast<size_t>(colon - line);
  const char* value = colon + 1;
  const char* end = line + length;
  while (value < end && is_blank(*value))
    ++value;
  while (end > value && is_blank(end[-1]))
    --end;
  const size_t value_length = static_cast<size_t>(end - value);
  auto is = [&](const char* name) {
    return name_length == strlen(name) && strncasecmp(line, name, name_length) == 0;
  };

  if (is("Content-Length")) {
    uint64_t content_length = 0;
    if (parse_number(value, value_length, UINT64_MAX, content_length)) {
      content_length_too_large_ = content_length > UINT32_MAX;
      head_.has_content_length = !content_length_too_large_;
      head_.content_length = static_cast<uint32_t>(content_length_too_large_ ? 0 : content_length);
    }
  } else if (is("Content-Range")) {
    head_.has_content_range = parse_content_range(value, value_length, head_);
  } else if (is("Content-Encoding")) {
    encoded_ = !(value_length == 8 && strncasecmp(value, "identity", 8) == 0);
  } else if (is("ETag")) {
    copy_field(head_.etag, value, value_length);
  } else if (is("Last-Modified")) {
    copy_field(head_.last_modified, value, value_length);
  } else if (is("Location")) {
    head_.location_too_long = value_length > kMaxLocationLength;
    copy_field(head_.location, value, value_length);
  }
}

size_t CurlTransport::on_body(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<CurlTransport*>(self);
  const size_t n = size * count;
  if (t->head_.has_content_length && n > t->head_.content_length - t->body_bytes_) {
    t->trailing_ = true;
    return 0;  // CURLE_WRITE_ERROR: no byte past the announced length reaches the job
  }
  if (n > t->buffer_.size()) {
    t->chunk_too_large_ = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  if (n > t->buffer_.size() - t->buffered()) {
    t->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;  // libcurl keeps this chunk and offers it again after curl_easy_pause
  }
  if (t->end_ + n > t->buffer_.size()) {
    memmove(t->buffer_.data(), t->buffer_.data() + t->begin_, t->buffered());
    t->end_ -= t->begin_;
    t->begin_ = 0;
  }
  memcpy(t->buffer_.data() + t->end_, data, n);
  t->end_ += n;
  t->body_bytes_ += static_cast<uint32_t>(n);
  t->peak_buffered_ = std::max(t->peak_buffered_, t->buffered());
  t->got_byte_ = t->got_byte_now_ = true;
  return n;
}

}  // namespace privota::host
