#include "privota/rv32/net/tls_connection.h"

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <string.h>

#include "privota/rv32/net/network.h"
#include "privota/rv32/net/virtio_rng.h"

namespace privota::rv32::net {
namespace {

int random_bytes(void*, unsigned char* out, size_t length) {
  return random_fill(out, length).is_ok() ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

// mbedTLS's bio return codes for what the TCP layer reported; the Status itself is kept aside.
constexpr int kBioTimeout = MBEDTLS_ERR_SSL_TIMEOUT;
constexpr int kBioBroken = MBEDTLS_ERR_NET_CONN_RESET;

// The handshake's P-256 work in steps of this many "basic operations" (about a field multiplication each; a
// scalar multiplication is about 3,300, and a handshake about six of them): each step is about 1/7 of one,
// and the main loop gets a turn between steps (restartable ECC, privota_mbedtls_config.h).
constexpr unsigned kEcpOpsPerStep = 500;
uint32_t crypto_steps = 0;

}  // namespace

uint32_t handshake_crypto_steps() {
  return crypto_steps;
}

TlsConnection::TlsConnection() {
  mbedtls_ssl_config_init(&config_);
  mbedtls_ssl_init(&ssl_);
  mbedtls_x509_crt_init(&ca_);
}

TlsConnection::~TlsConnection() {
  close();
  mbedtls_x509_crt_free(&ca_);
  mbedtls_ssl_config_free(&config_);
}

Status TlsConnection::load_ca(const char* pem) {
  mbedtls_x509_crt_free(&ca_);
  mbedtls_x509_crt_init(&ca_);
  ca_loaded_ = false;
  if (mbedtls_x509_crt_parse(&ca_, reinterpret_cast<const unsigned char*>(pem), strlen(pem) + 1) != 0)
    return Status::error(Code::kInvalidArgument, "the TLS CA is not a PEM certificate");
  ca_loaded_ = true;
  return Status::ok();
}

int TlsConnection::bio_send(void* self, const unsigned char* data, size_t length) {
  TlsConnection& c = *static_cast<TlsConnection*>(self);
  c.transport_status_ = c.tcp_.send(data, length, c.deadline_ms_);
  if (c.transport_status_.is_ok()) return static_cast<int>(length);
  return c.transport_status_.code() == Code::kTimeout ? kBioTimeout : kBioBroken;
}

int TlsConnection::bio_receive(void* self, unsigned char* out, size_t length) {
  TlsConnection& c = *static_cast<TlsConnection*>(self);
  const Result<size_t> got = c.tcp_.receive(out, length, c.deadline_ms_);
  c.transport_status_ = got.status();
  if (got.is_ok()) return static_cast<int>(*got);  // 0: the peer closed (EOF)
  return got.status().code() == Code::kTimeout ? kBioTimeout : kBioBroken;
}

Status TlsConnection::connect(uint32_t address, uint16_t port, const char* host, uint32_t deadline_ms) {
  close();
  if (!ca_loaded_) return Status::error(Code::kUntrusted, "no TLS CA configured: nothing is trusted");
  PRIVOTA_TRY(tcp_.connect(address, port, deadline_ms));
  mbedtls_ssl_config_free(&config_);
  mbedtls_ssl_config_init(&config_);
  if (mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return Status::error(Code::kTlsError, "mbedTLS refused the client configuration");
  mbedtls_ssl_conf_min_version(&config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&config_, &ca_, nullptr);
  mbedtls_ssl_conf_rng(&config_, random_bytes, nullptr);
  mbedtls_ssl_free(&ssl_);
  mbedtls_ssl_init(&ssl_);
  if (mbedtls_ssl_setup(&ssl_, &config_) != 0 || mbedtls_ssl_set_hostname(&ssl_, host) != 0) {
    tcp_.close();
    return Status::error(Code::kTlsError, "no memory for the TLS connection");
  }
  mbedtls_ssl_set_bio(&ssl_, this, bio_send, bio_receive, nullptr);
  open_ = true;
  deadline_ms_ = deadline_ms;
  mbedtls_ecp_set_max_ops(kEcpOpsPerStep);
  int result = 0;
  do {
    result = mbedtls_ssl_handshake(&ssl_);
    // A step of its ECC work is done: the main loop's turn (in the OTA job, the network's wait hook), then
    // on.
    if (result == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS) {
      ++crypto_steps;
      network_wait();
    }
  } while (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE ||
           result == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS);
  if (result != 0) {
    const Status error = handshake_error(result);
    close();
    return error;
  }
  return Status::ok();
}

Status TlsConnection::handshake_error(int error) const {
  if (error == kBioTimeout && transport_status_.code() == Code::kTimeout)
    return Status::error(Code::kTimeout, "no TLS handshake within the connect timeout");
  if (!transport_status_.is_ok()) return transport_status_;
  if (error == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    const uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
    // A name mismatch alone: the chain is good, the certificate is for another host.
    if (flags == MBEDTLS_X509_BADCERT_CN_MISMATCH)
      return Status::error(Code::kTlsNameMismatch, "the server's certificate does not name the URL's host");
    return Status::error(Code::kUntrusted, "the server's certificate does not chain to the configured CA",
                         flags);
  }
  if (error == MBEDTLS_ERR_SSL_CONN_EOF)
    return Status::error(Code::kNetwork, "the server closed the connection during the TLS handshake");
  return Status::error(Code::kTlsError, "TLS handshake failed", static_cast<uint32_t>(-error));
}

Status TlsConnection::send(const uint8_t* data, size_t length, uint32_t deadline_ms) {
  if (!open_) return Status::error(Code::kBadState, "TLS send without a connection");
  deadline_ms_ = deadline_ms;
  while (length > 0) {
    const int sent = mbedtls_ssl_write(&ssl_, data, length);
    if (sent == MBEDTLS_ERR_SSL_WANT_READ || sent == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (sent < 0) {
      if (!transport_status_.is_ok()) return transport_status_;
      return Status::error(Code::kTlsError, "TLS write failed", static_cast<uint32_t>(-sent));
    }
    data += sent;
    length -= static_cast<size_t>(sent);
  }
  return Status::ok();
}

Result<size_t> TlsConnection::receive(uint8_t* out, size_t length, uint32_t deadline_ms) {
  if (!open_) return Status::error(Code::kBadState, "TLS receive without a connection");
  deadline_ms_ = deadline_ms;
  for (;;) {
    const int got = mbedtls_ssl_read(&ssl_, out, length);
    if (got == MBEDTLS_ERR_SSL_WANT_READ || got == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (got >= 0) return static_cast<size_t>(got);
    if (got == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return size_t{0};
    if (!transport_status_.is_ok()) return transport_status_;
    // A TCP close without close_notify reads as EOF too: HTTP's framing decides whether it was cut short.
    if (got == MBEDTLS_ERR_SSL_CONN_EOF) return size_t{0};
    return Status::error(Code::kTlsError, "TLS read failed", static_cast<uint32_t>(-got));
  }
}

void TlsConnection::close() {
  if (open_) {
    deadline_ms_ = now_ms() + 100;  // a courtesy close_notify, never waited for long
    mbedtls_ssl_close_notify(&ssl_);
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_init(&ssl_);
  }
  open_ = false;
  transport_status_ = Status::ok();
  tcp_.close();
}

}  // namespace privota::rv32::net
