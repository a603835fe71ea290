#include "privota/rv32/net/tcp_connection.h"

#include <lwip/tcp.h>

#include "privota/rv32/net/network.h"

namespace privota::rv32::net {
namespace {

bool passed(uint32_t deadline_ms) {
  return static_cast<int32_t>(now_ms() - deadline_ms) >= 0;
}

}  // namespace

signed char TcpConnection::on_connected(void* self, tcp_pcb*, signed char) {
  static_cast<TcpConnection*>(self)->connected_ = true;
  return ERR_OK;
}

signed char TcpConnection::on_received(void* self, tcp_pcb*, pbuf* data, signed char) {
  TcpConnection& c = *static_cast<TcpConnection*>(self);
  if (data == nullptr) {
    c.peer_closed_ = true;
    return ERR_OK;
  }
  if (c.received_ == nullptr)
    c.received_ = data;
  else
    pbuf_cat(c.received_, data);
  return ERR_OK;
}

void TcpConnection::on_error(void* self, signed char) {
  // lwIP has already freed the pcb (reset, or its own abort).
  TcpConnection& c = *static_cast<TcpConnection*>(self);
  c.pcb_ = nullptr;
  c.failed_ = true;
}

Status TcpConnection::connect(uint32_t address, uint16_t port, uint32_t deadline_ms) {
  close();
  pcb_ = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb_ == nullptr) return Status::error(Code::kNetwork, "no lwIP TCP control block free");
  tcp_arg(pcb_, this);
  tcp_recv(pcb_, on_received);
  tcp_err(pcb_, on_error);
  ip_addr_t to;
  IP_ADDR4(&to, address >> 24, (address >> 16) & 0xFF, (address >> 8) & 0xFF, address & 0xFF);
  if (tcp_connect(pcb_, &to, port, on_connected) != ERR_OK) {
    close();
    return Status::error(Code::kNetwork, "lwIP could not start the TCP connection");
  }
  while (!connected_ && !failed_) {
    if (passed(deadline_ms)) {
      close();
      return Status::error(Code::kTimeout, "no TCP connection within the connect timeout");
    }
    network_wait();
  }
  if (failed_) return Status::error(Code::kNetwork, "the TCP connection was refused or reset");
  return Status::ok();
}

Status TcpConnection::send(const uint8_t* data, size_t length, uint32_t deadline_ms) {
  while (length > 0) {
    if (failed_ || pcb_ == nullptr) return Status::error(Code::kNetwork, "the TCP connection was reset");
    size_t room = tcp_sndbuf(pcb_);
    if (room > length) room = length;
    if (room > 0 && tcp_write(pcb_, data, static_cast<u16_t>(room), TCP_WRITE_FLAG_COPY) == ERR_OK) {
      data += room;
      length -= room;
      tcp_output(pcb_);
      continue;
    }
    if (passed(deadline_ms))
      return Status::error(Code::kTimeout, "the server took no data within the timeout");
    network_wait();
  }
  return Status::ok();
}

Result<size_t> TcpConnection::receive(uint8_t* out, size_t length, uint32_t deadline_ms) {
  while (received_ == nullptr) {
    if (failed_) return Status::error(Code::kNetwork, "the TCP connection was reset");
    if (peer_closed_ || length == 0) return size_t{0};
    if (passed(deadline_ms))
      return Status::error(Code::kTimeout, "no byte from the server within the timeout");
    network_wait();
  }
  const size_t available = received_->tot_len - received_offset_;
  const size_t n = available < length ? available : length;
  pbuf_copy_partial(received_, out, static_cast<u16_t>(n), static_cast<u16_t>(received_offset_));
  received_offset_ += n;
  // Free the pbufs read to their end, and open the window by what was read.
  while (received_ != nullptr && received_offset_ >= received_->len) {
    received_offset_ -= received_->len;
    pbuf* rest = received_->next;
    if (rest != nullptr) pbuf_ref(rest);
    pbuf_free(received_);
    received_ = rest;
  }
  if (pcb_ != nullptr) tcp_recved(pcb_, static_cast<u16_t>(n));
  return n;
}

void TcpConnection::close() {
  if (received_ != nullptr) pbuf_free(received_);
  received_ = nullptr;
  received_offset_ = 0;
  if (pcb_ != nullptr) {
    tcp_arg(pcb_, nullptr);
    tcp_recv(pcb_, nullptr);
    tcp_err(pcb_, nullptr);
    if (tcp_close(pcb_) != ERR_OK) tcp_abort(pcb_);
  }
  pcb_ = nullptr;
  connected_ = peer_closed_ = failed_ = false;
}

}  // namespace privota::rv32::net
