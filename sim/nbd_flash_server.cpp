#include "nbd_flash_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace privota::sim {
namespace {

// NBD protocol constants (the NBD project's doc/proto.md).
constexpr uint64_t kNbdMagic = 0x4e42444d41474943;     // "NBDMAGIC"
constexpr uint64_t kOptionMagic = 0x49484156454f5054;  // "IHAVEOPT"
constexpr uint64_t kReplyMagic = 0x3e889045565a9;      // option replies
constexpr uint32_t kRequestMagic = 0x25609513;
constexpr uint32_t kSimpleReplyMagic = 0x67446698;
constexpr uint16_t kFixedNewstyle = 1, kNoZeroes = 2;
constexpr uint32_t kOptExportName = 1, kOptAbort = 2, kOptGo = 7;
constexpr uint32_t kRepAck = 1, kRepInfo = 3, kRepErrUnsup = 0x80000001;
constexpr uint16_t kInfoExport = 0;
constexpr uint16_t kFlagHasFlags = 1, kFlagSendFlush = 4;
constexpr uint16_t kCmdRead = 0, kCmdWrite = 1, kCmdDisconnect = 2, kCmdFlush = 3;
constexpr uint32_t kEinval = 22, kEio = 5;
constexpr uint32_t kMaxRequest = 32 * 1024 * 1024;

void put_be(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
uint64_t get_be(const uint8_t* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value = (value << 8) | in[i];
  return value;
}

bool send_all(int fd, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    const ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}
bool send_all(int fd, const std::vector<uint8_t>& data) {
  return send_all(fd, data.data(), data.size());
}
bool recv_all(int fd, void* data, size_t len) {
  auto* p = static_cast<uint8_t*>(data);
  while (len > 0) {
    const ssize_t n = recv(fd, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool option_reply(int fd, uint32_t option, uint32_t type, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out;
  put_be(out, kReplyMagic, 8);
  put_be(out, option, 4);
  put_be(out, type, 4);
  put_be(out, data.size(), 4);
  out.insert(out.end(), data.begin(), data.end());
  return send_all(fd, out);
}

void simple_reply(int fd, uint32_t error, uint64_t handle, const std::vector<uint8_t>* data) {
  std::vector<uint8_t> out;
  put_be(out, kSimpleReplyMagic, 4);
  put_be(out, error, 4);
  put_be(out, handle, 8);
  if (data != nullptr) out.insert(out.end(), data->begin(), data->end());
  (void)send_all(fd, out);
}

}  // namespace

Result<std::unique_ptr<NbdFlashServer>> NbdFlashServer::start(const std::filesystem::path& flash,
                                                              const std::filesystem::path& socket,
                                                              uint64_t* writes, uint64_t cut_at) {
  host::UniqueFd file(open(flash.c_str(), O_RDWR | O_CLOEXEC));
  if (file.get() < 0) return Status::error(Code::kIoError, "cannot open the flash file for the machine");
  struct stat st {};
  if (fstat(file.get(), &st) != 0) return Status::error(Code::kIoError, "cannot stat the flash file");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.native().size() >= sizeof address.sun_path)
    return Status::error(Code::kLimitExceeded, "the NBD socket path is too long");
  std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
  host::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0 ||
      bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener.get(), 1) != 0) {
    return Status::error(Code::kIoError, "cannot listen on the NBD socket", static_cast<uint32_t>(errno));
  }
  std::unique_ptr<NbdFlashServer> server(new NbdFlashServer(
      std::move(file), static_cast<uint64_t>(st.st_size), std::move(listener), writes, cut_at));
  server->thread_ = std::thread([s = server.get()] { s->serve(); });
  return server;
}

NbdFlashServer::NbdFlashServer(host::UniqueFd flash, uint64_t size, host::UniqueFd listener, uint64_t* writes,
                               uint64_t cut_at)
    : flash_(std::move(flash)),
      size_(size),
      listener_(std::move(listener)),
      writes_(writes),
      cut_at_(cut_at) {}

NbdFlashServer::~NbdFlashServer() {
  stopping_ = true;
  shutdown(listener_.get(), SHUT_RDWR);
  const int connection = connection_.load();
  if (connection >= 0) shutdown(connection, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

// One machine at a time: each boot's QEMU connects, negotiates and is served until it goes away.
void NbdFlashServer::serve() {
  while (!stopping_) {
    host::UniqueFd connection(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.get() < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    connection_ = connection.get();
    if (handshake(connection.get())) transmit(connection.get());
    connection_ = -1;
  }
}

bool NbdFlashServer::handshake(int fd) {
  std::vector<uint8_t> hello;
  put_be(hello, kNbdMagic, 8);
  put_be(hello, kOptionMagic, 8);
  put_be(hello, kFixedNewstyle | kNoZeroes, 2);
  uint8_t client_flags[4];
  if (!send_all(fd, hello) || !recv_all(fd, client_flags, 4)) return false;
  for (;;) {
    uint8_t header[16];
    if (!recv_all(fd, header, sizeof header) || get_be(header, 8) != kOptionMagic) return false;
    const auto option = static_cast<uint32_t>(get_be(header + 8, 4));
    const auto length = static_cast<uint32_t>(get_be(header + 12, 4));
    if (length > 64 * 1024) return false;
    std::vector<uint8_t> data(length);
    if (!recv_all(fd, data.data(), length)) return false;
    if (option == kOptAbort) return false;
    std::vector<uint8_t> info;
    put_be(info, kInfoExport, 2);
    put_be(info, size_, 8);
    put_be(info, kFlagHasFlags | kFlagSendFlush, 2);
    if (option == kOptExportName) {  // the old way: the export's facts without a reply header
      std::vector<uint8_t> facts(info.begin() + 2, info.end());
      return send_all(fd, facts);
    }
    if (option == kOptGo)
      return option_reply(fd, option, kRepInfo, info) && option_reply(fd, option, kRepAck, {});
    if (!option_reply(fd, option, kRepErrUnsup, {})) return false;
  }
}

void NbdFlashServer::transmit(int fd) {
  for (;;) {
    uint8_t request[28];
    if (!recv_all(fd, request, sizeof request) || get_be(request, 4) != kRequestMagic) return;
    const auto type = static_cast<uint16_t>(get_be(request + 6, 2));
    const uint64_t handle = get_be(request + 8, 8);
    const uint64_t offset = get_be(request + 16, 8);
    const auto length = static_cast<uint32_t>(get_be(request + 24, 4));
    const bool in_range = length <= kMaxRequest && offset <= size_ && length <= size_ - offset;
    if (type == kCmdDisconnect) return;
    if (type == kCmdFlush) {
      simple_reply(fd, fdatasync(flash_.get()) == 0 ? 0 : kEio, handle, nullptr);
    } else if (type == kCmdRead) {
      std::vector<uint8_t> data(in_range ? length : 0);
      const bool ok = in_range && pread(flash_.get(), data.data(), length, static_cast<off_t>(offset)) ==
                                      static_cast<ssize_t>(length);
      if (ok) {
        simple_reply(fd, 0, handle, &data);
      } else {
        simple_reply(fd, in_range ? kEio : kEinval, handle, nullptr);
      }
    } else if (type == kCmdWrite) {
      uint32_t error = 0;
      if (!write_request(fd, offset, length, &error)) {
        if (cut_) wait_for_the_machine_to_go(fd);
        return;
      }
      simple_reply(fd, error, handle, nullptr);
    } else {
      simple_reply(fd, kEinval, handle, nullptr);
    }
  }
}

// The power is gone: the write stays unanswered until the runner kills the machine and its end of the
// socket closes. Closing ours first would let QEMU fail the request back to the firmware, which would go on
// running (and logging) on a flash that is no longer there until the runner's next look.
void NbdFlashServer::wait_for_the_machine_to_go(int fd) {
  char discard[4096];
  while (!stopping_) {
    const ssize_t n = recv(fd, discard, sizeof discard, 0);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

// Receives a write's data and applies it: the device's next flash write. The one the power cut hits is
// applied only in its first half and never answered (false).
bool NbdFlashServer::write_request(int fd, uint64_t offset, uint32_t length, uint32_t* error) {
  if (length > kMaxRequest) return false;
  std::vector<uint8_t> data(length);
  if (!recv_all(fd, data.data(), length)) return false;
  if (offset > size_ || length > size_ - offset) {
    *error = kEinval;
    return true;
  }
  const uint64_t n = __atomic_add_fetch(writes_, 1, __ATOMIC_SEQ_CST);
  const bool cut = cut_at_ != 0 && n == cut_at_;
  const uint32_t applied = cut ? length / 2 : length;
  if (pwrite(flash_.get(), data.data(), applied, static_cast<off_t>(offset)) != static_cast<ssize_t>(applied))
    *error = kEio;
  if (cut) {
    cut_ = true;
    return false;
  }
  return true;
}

}  // namespace privota::sim
