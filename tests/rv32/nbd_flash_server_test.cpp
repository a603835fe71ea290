// The rv32 machine's flash server (sim/nbd_flash_server.cpp), driven by a minimal NBD client of the test's
// own: the power cut must leave the write that hit it unanswered, so that the firmware can never see the
// failure and act on it before the machine is killed.
#include "nbd_flash_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "test_support.h"

namespace privota::sim {
namespace {

namespace fs = std::filesystem;

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

// QEMU's side of the conversation, just as much as the server needs: the fixed-newstyle handshake with
// NBD_OPT_GO, then write requests.
class NbdClient {
 public:
  explicit NbdClient(const fs::path& socket) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
    connected_ = connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }

  bool handshake() {
    uint8_t hello[18];
    if (!connected_ || !read(hello, sizeof hello)) return false;
    std::vector<uint8_t> out;
    put_be(out, 3, 4);                   // client flags: fixed newstyle, no zeroes
    put_be(out, 0x49484156454f5054, 8);  // IHAVEOPT
    put_be(out, 7, 4);                   // NBD_OPT_GO
    put_be(out, 6, 4);                   // an empty export name and no information requests
    put_be(out, 0, 4);
    put_be(out, 0, 2);
    if (!write(out)) return false;
    for (;;) {  // replies until the acknowledgement
      uint8_t reply[20];
      if (!read(reply, sizeof reply)) return false;
      std::vector<uint8_t> data(get_be(reply + 16, 4));
      if (!data.empty() && !read(data.data(), data.size())) return false;
      if (get_be(reply + 12, 4) == 1) return true;  // NBD_REP_ACK
    }
  }

  bool send_write(uint64_t offset, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out;
    put_be(out, 0x25609513, 4);
    put_be(out, 0, 2);  // command flags
    put_be(out, 1, 2);  // NBD_CMD_WRITE
    put_be(out, ++handle_, 8);
    put_be(out, offset, 8);
    put_be(out, data.size(), 4);
    out.insert(out.end(), data.begin(), data.end());
    return write(out);
  }

  // The simple reply's error field, or -1 when none came: the connection closed.
  int reply_error() {
    uint8_t reply[16];
    if (!read(reply, sizeof reply) || get_be(reply, 4) != 0x67446698) return -1;
    return static_cast<int>(get_be(reply + 4, 4));
  }

  // What the socket shows within `ms`: 0 nothing (the request is still waiting), 1 data or its end.
  int shows_anything_within(int ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    return poll(&p, 1, ms);
  }

 private:
  bool read(void* data, size_t len) {
    auto* p = static_cast<uint8_t*>(data);
    while (len > 0) {
      const ssize_t n = recv(fd_.get(), p, len, 0);
      if (n <= 0) return false;
      p += n;
      len -= static_cast<size_t>(n);
    }
    return true;
  }
  bool write(const std::vector<uint8_t>& data) {
    return send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }

  host::UniqueFd fd_;
  bool connected_ = false;
  uint64_t handle_ = 0;
};

class NbdFlashServerTest : public ::testing::Test {
 protected:
  void SetUp() override { test::write_file(flash_, std::vector<uint8_t>(8192, 0xFF)); }

  std::unique_ptr<NbdFlashServer> start(uint64_t cut_at) {
    auto server = NbdFlashServer::start(flash_, dir_ / "nbd.sock", &writes_, cut_at);
    EXPECT_TRUE(server.is_ok()) << server.status().reason();
    return server.is_ok() ? std::move(server.value()) : nullptr;
  }

  test::TempDir dir_;
  fs::path flash_ = dir_ / "flash.bin";
  uint64_t writes_ = 0;
};

TEST_F(NbdFlashServerTest, WritesBeforeTheCutAreAppliedAndAnsweredAndCounted) {
  const auto server = start(3);
  ASSERT_NE(server, nullptr);
  NbdClient client(dir_ / "nbd.sock");
  ASSERT_TRUE(client.handshake());
  ASSERT_TRUE(client.send_write(512, std::vector<uint8_t>(512, 0x11)));
  EXPECT_EQ(client.reply_error(), 0);
  ASSERT_TRUE(client.send_write(9000, std::vector<uint8_t>(512, 0x22)));
  EXPECT_EQ(client.reply_error(), 22) << "a write past the end is refused with EINVAL, and is not counted";
  EXPECT_EQ(writes_, 1u);
  EXPECT_FALSE(server->power_cut());
  const std::vector<uint8_t> flash = test::read_file(flash_);
  EXPECT_EQ(flash[511], 0xFF);
  EXPECT_EQ(flash[512], 0x11);
  EXPECT_EQ(flash[1023], 0x11);
}

// The write the cut hits is half applied and never answered, and the connection stays open: closing it
// would make QEMU fail the request back to the firmware, which would then run on (and log, and write
// nothing but act) until the sim's next look. It ends when the machine goes, or the server stops.
TEST_F(NbdFlashServerTest, TheWriteThePowerCutHitsIsHalfDoneAndNeverAnswered) {
  auto server = start(2);
  ASSERT_NE(server, nullptr);
  NbdClient client(dir_ / "nbd.sock");
  ASSERT_TRUE(client.handshake());
  ASSERT_TRUE(client.send_write(0, std::vector<uint8_t>(512, 0x11)));
  ASSERT_EQ(client.reply_error(), 0);
  ASSERT_TRUE(client.send_write(4096, std::vector<uint8_t>(1024, 0x22)));
  EXPECT_EQ(client.shows_anything_within(300), 0) << "neither a reply nor the connection's end";
  EXPECT_TRUE(server->power_cut());
  EXPECT_EQ(writes_, 2u);
  const std::vector<uint8_t> flash = test::read_file(flash_);
  EXPECT_EQ(flash[4096 + 511], 0x22);
  EXPECT_EQ(flash[4096 + 512], 0xFF) << "only the first half of the write reached the flash";

  server.reset();  // the sim stops the server: the waiting connection ends
  EXPECT_EQ(client.reply_error(), -1);
}

}  // namespace
}  // namespace privota::sim
