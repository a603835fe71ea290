// One TCP connection over lwIP's raw API, with blocking calls for the layers above (TLS, HTTP): each call
// polls the network (network_poll) until it can answer or its deadline passes. Received data waits in
// lwIP's pbufs until read; the window opens as it is read, so a slow reader slows the server down instead
// of dropping data.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"

struct tcp_pcb;
struct pbuf;

namespace privota::rv32::net {

class TcpConnection {
 public:
  TcpConnection() = default;
  ~TcpConnection() { close(); }
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // kTimeout when not connected by `deadline_ms` (now_ms()), kNetwork when refused or reset.
  Status connect(uint32_t address, uint16_t port, uint32_t deadline_ms);
  // Queues all of `data` for sending (waiting for room in the send buffer until the deadline).
  Status send(const uint8_t* data, size_t length, uint32_t deadline_ms);
  // Up to `length` bytes: > 0 read, 0 when the peer closed; kTimeout when nothing came by the deadline.
  Result<size_t> receive(uint8_t* out, size_t length, uint32_t deadline_ms);
  // Closes (or aborts, if lwIP cannot close now) and drops what was not read.
  void close();

 private:
  static signed char on_connected(void* self, tcp_pcb* pcb, signed char err);
  static signed char on_received(void* self, tcp_pcb* pcb, pbuf* data, signed char err);
  static void on_error(void* self, signed char err);

  tcp_pcb* pcb_ = nullptr;
  pbuf* received_ = nullptr;  // unread data, a chain
  size_t received_offset_ = 0;
  bool connected_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;  // reset or aborted: lwIP has freed the pcb
};

}  // namespace privota::rv32::net
