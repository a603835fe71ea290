// A TLS 1.2 client connection (mbedTLS 2.28) over TcpConnection: the server must present a certificate
// chaining to the configured CA and naming the host (SNI is sent with it); ECDHE with AES-128-GCM only
// (privota_mbedtls_config.h). Errors say which: kUntrusted, kTlsNameMismatch, kTlsError, kTimeout, kNetwork.
#pragma once

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/rv32/net/tcp_connection.h"

namespace privota::rv32::net {

// How many times a handshake stopped between bounded steps of its ECC work to give the main loop a turn,
// over every connection since boot (restartable ECC: an ECDHE-ECDSA handshake takes a few dozen).
uint32_t handshake_crypto_steps();

class TlsConnection {
 public:
  TlsConnection();
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // The CA the server must chain to (PEM, NUL-terminated). kUntrusted when none is loaded at connect().
  Status load_ca(const char* pem);
  // TCP connect and TLS handshake with `host` (a NUL-terminated name for SNI and verification), all
  // before `deadline_ms`.
  Status connect(uint32_t address, uint16_t port, const char* host, uint32_t deadline_ms);
  Status send(const uint8_t* data, size_t length, uint32_t deadline_ms);
  // > 0 bytes, 0 when the server closed (close_notify or TCP close); kTimeout when nothing came in time.
  Result<size_t> receive(uint8_t* out, size_t length, uint32_t deadline_ms);
  void close();

 private:
  static int bio_send(void* self, const unsigned char* data, size_t length);
  static int bio_receive(void* self, unsigned char* out, size_t length);
  Status handshake_error(int error) const;

  TcpConnection tcp_;
  mbedtls_ssl_config config_;
  mbedtls_ssl_context ssl_;
  mbedtls_x509_crt ca_;
  bool ca_loaded_ = false;
  bool open_ = false;
  uint32_t deadline_ms_ = 0;  // of the call in progress, for the bio callbacks
  Status transport_status_;   // why the last bio call failed (timeout, reset), for the caller
};

}  // namespace privota::rv32::net
