// The rv32 device's network stack end to end (docs/rv32.md, "Network"): net_fetch (tests/rv32/net) runs on
// QEMU's virt machine and fetches one URL with HttpsTransport over virtio-net, lwIP 2.1.3 and mbedTLS 2.28's
// TLS 1.2 client. QEMU's user-mode network is restricted (restrict=on): the guest reaches only 10.0.2.100,
// which guestfwd connects to the test's server on 127.0.0.1 through socat, one host connection per guest
// connection. The rows follow CurlTransport's contract tests (tests/host/curl_transport_test.cpp).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mbedtls/sha256.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "https_server.h"
#include "test_support.h"

namespace privota {
namespace {

namespace fs = std::filesystem;
using test::HostileServer;
using test::NginxServer;
using test::TestPki;

std::string sha256_hex(const uint8_t* data, size_t size) {
  unsigned char digest[32];
  mbedtls_sha256_ret(data, size, digest, 0);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

std::vector<uint8_t> random_bytes(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t x = seed * 2654435761u + 1;
  for (uint8_t& byte : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<uint8_t>(x);
  }
  return bytes;
}

// The fetch as net_fetch printed it.
struct Fetch {
  int exit_code = -1;
  std::string out;
  std::string line(const std::string& key) const {
    std::smatch match;
    const std::regex pattern("net_fetch: " + key + " ([^\r\n]*)");
    return std::regex_search(out, match, pattern) ? match[1].str() : std::string();
  }
  bool opened() const { return out.find("net_fetch: open: ok") != std::string::npos; }
  std::string error(const char* stage) const { return line(std::string(stage) + ":"); }
};

class Rv32Net : public testing::Test {
 protected:
  // net_fetch with these argument lines; the CA is TestPki's unless `ca` names another PEM file. Every
  // connection the guest makes to 10.0.2.100:port reaches 127.0.0.1:port.
  Fetch fetch(uint16_t port, const std::string& lines, const fs::path& ca = TestPki::get().ca_pem) {
    std::string args = lines + "host localhost 10.0.2.100\nhost otherhost 10.0.2.100\nca\n";
    if (!ca.empty()) {
      for (uint8_t byte : test::read_file(ca))
        args += static_cast<char>(byte);
    }
    args += '\0';
    test::write_text(dir_ / "args.txt", args);
    const std::string p = std::to_string(port);
    const test::CommandResult run = test::run_command(
        std::string("timeout 60 ") + PRIVOTA_QEMU_RV32 +
        " -M virt -display none -serial stdio -monitor none -bios none -kernel " PRIVOTA_RV32_NET_FETCH
        " -device loader,file=" +
        (dir_ / "args.txt").string() +
        ",addr=0x80800000,force-raw=on -global virtio-mmio.force-legacy=false -netdev "
        "user,id=n,restrict=on,guestfwd=tcp:10.0.2.100:" +
        p + "-cmd:'socat -lf /dev/null - TCP:127.0.0.1:" + p +
        "' -device virtio-net-device,netdev=n -device virtio-rng-device </dev/null");
    return {run.exit_code, run.out};
  }
  static std::string url(uint16_t port, const std::string& path, const char* host = "localhost") {
    return "url https://" + std::string(host) + ":" + std::to_string(port) + "/" + path + "\n";
  }

  test::TempDir dir_;
};

class Rv32NetNginx : public Rv32Net {
 protected:
  void SetUp() override { test::write_file(root_ / "image.bin", image_); }
  test::TempDir root_;
  std::vector<uint8_t> image_ = random_bytes(100 * 1000 + 7, 1);
  NginxServer server_{root_.path()};
};

TEST_F(Rv32NetNginx, FetchesAFileOverHttpsWithItsLengthAndSha256) {
  const Fetch f = fetch(server_.port(), url(server_.port(), "image.bin"));
  ASSERT_EQ(f.exit_code, 0) << f.out;
  EXPECT_EQ(f.line("status"), "200");
  EXPECT_EQ(f.line("content-length"), std::to_string(image_.size()));
  EXPECT_FALSE(f.line("etag").empty()) << f.out;
  EXPECT_FALSE(f.line("last-modified").empty()) << f.out;
  EXPECT_EQ(f.line("body"),
            std::to_string(image_.size()) + " bytes sha256 " + sha256_hex(image_.data(), image_.size()))
      << f.out;
  // The connection's RAM, for docs/rv32-network.md's numbers.
  EXPECT_FALSE(f.line("ram:").empty()) << f.out;
  std::cout << "net_fetch ram: " << f.line("ram:") << "\n";
  // One request, through guestfwd, as HTTP/1.1 with the headers the device sends.
  EXPECT_NE(server_.access_log().find("\"GET /image.bin HTTP/1.1\" 200"), std::string::npos)
      << server_.access_log();
}

TEST_F(Rv32NetNginx, ResumesWithRangeWhenIfRangeMatchesAndGetsTheWholeFileWhenNot) {
  const Fetch first = fetch(server_.port(), url(server_.port(), "image.bin"));
  ASSERT_EQ(first.exit_code, 0) << first.out;
  const std::string etag = first.line("etag");
  const uint32_t from = 40000;
  const Fetch tail =
      fetch(server_.port(), url(server_.port(), "image.bin") + "range 40000\nif-range " + etag + "\n");
  ASSERT_EQ(tail.exit_code, 0) << tail.out;
  EXPECT_EQ(tail.line("status"), "206");
  EXPECT_EQ(tail.line("content-range"), std::to_string(from) + "-" + std::to_string(image_.size() - 1) + "/" +
                                            std::to_string(image_.size()));
  EXPECT_EQ(tail.line("body"), std::to_string(image_.size() - from) + " bytes sha256 " +
                                   sha256_hex(image_.data() + from, image_.size() - from));
  const Fetch changed =
      fetch(server_.port(), url(server_.port(), "image.bin") + "range 40000\nif-range \"not-the-etag\"\n");
  ASSERT_EQ(changed.exit_code, 0) << changed.out;
  EXPECT_EQ(changed.line("status"), "200");
  EXPECT_EQ(changed.line("body"),
            std::to_string(image_.size()) + " bytes sha256 " + sha256_hex(image_.data(), image_.size()));
}

TEST_F(Rv32NetNginx, ReportsErrorStatusesAndRedirectsInsteadOfFollowingThem) {
  const Fetch missing = fetch(server_.port(), url(server_.port(), "status/404"));
  EXPECT_TRUE(missing.opened()) << missing.out;
  EXPECT_EQ(missing.line("status"), "404");
  const Fetch moved = fetch(server_.port(), url(server_.port(), "redirect/relative/image.bin"));
  EXPECT_TRUE(moved.opened()) << moved.out;
  EXPECT_EQ(moved.line("status"), "302");
  EXPECT_EQ(moved.line("location"), "/image.bin");
}

TEST_F(Rv32NetNginx, RefusesAServerCertificateFromAnotherCa) {
  const Fetch f = fetch(server_.port(), url(server_.port(), "image.bin"), TestPki::get().other_ca_pem);
  EXPECT_EQ(f.exit_code, 1) << f.out;
  EXPECT_FALSE(f.opened());
  EXPECT_EQ(f.error("open").rfind("untrusted:", 0), 0u) << f.out;
}

TEST_F(Rv32NetNginx, TrustsNothingWithoutAConfiguredCa) {
  const Fetch f = fetch(server_.port(), url(server_.port(), "image.bin"), fs::path());
  EXPECT_FALSE(f.opened()) << f.out;
  EXPECT_EQ(f.error("open").rfind("untrusted: no TLS CA configured", 0), 0u) << f.out;
}

TEST_F(Rv32NetNginx, RefusesACertificateForAnotherHost) {
  // otherhost reaches the same nginx, whose certificate names localhost only.
  const Fetch f = fetch(server_.port(), url(server_.port(), "image.bin", "otherhost"));
  EXPECT_EQ(f.exit_code, 1) << f.out;
  EXPECT_EQ(f.error("open").rfind("tls_name_mismatch:", 0), 0u) << f.out;
}

TEST_F(Rv32Net, RefusesPlainHttpAndHostsOutsideItsTableAndReportsARefusedConnection) {
  const uint16_t port = test::free_loopback_port();
  const Fetch plain = fetch(port, "url http://localhost:" + std::to_string(port) + "/image.bin\n");
  EXPECT_EQ(plain.error("open").rfind("url_scheme_not_allowed:", 0), 0u) << plain.out;
  const Fetch unknown = fetch(port, url(port, "image.bin", "nowhere"));
  EXPECT_EQ(unknown.error("open").rfind("network:", 0), 0u) << unknown.out;
  // Nobody listens on the port: socat cannot connect and the guest's connection ends at once.
  const Fetch refused = fetch(port, url(port, "image.bin"));
  EXPECT_EQ(refused.error("open").rfind("network:", 0), 0u) << refused.out;
}

TEST_F(Rv32Net, AServerThatNeverHandshakesTimesOutAfterTheConnectTimeout) {
  // The host's kernel completes the TCP handshake for a listening socket; nobody answers the ClientHello.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t port = ntohs(address.sin_port);
  const Fetch f = fetch(port, url(port, "image.bin") + "connect-timeout 800\n");
  ::close(fd);
  EXPECT_EQ(f.error("open").rfind("timeout: no TLS handshake within the connect timeout", 0), 0u) << f.out;
}

// The TLS the device accepts: 1.2 with ECDHE and AES-GCM (docs/rv32-network.md). openssl s_server with the
// test server's certificate offers only what each row names, and the handshake must fail.
TEST_F(Rv32Net, RefusesServersOfferingOnlyOtherSuitesOrVersionsOrNoTls) {
  const TestPki& pki = TestPki::get();
  const std::vector<std::vector<std::string>> servers = {
      {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"},  // CBC with SHA-1: a weaker suite
      {"-tls1_3"},                                       // a version the device does not speak
  };
  // The control: the same server offering the suite the device speaks is accepted.
  const std::vector<std::string> accepted = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"};
  for (const std::vector<std::string>& offer : {accepted, servers[0], servers[1]}) {
    const uint16_t port = test::free_loopback_port();
    std::vector<std::string> argv = {"openssl", "s_server",
                                     "-accept", "127.0.0.1:" + std::to_string(port),
                                     "-cert",   pki.server_pem.string(),
                                     "-key",    pki.server_key.string(),
                                     "-www",    "-naccept",
                                     "1"};
    argv.insert(argv.end(), offer.begin(), offer.end());
    test::ServerProcess server;
    std::string first_line;
    ASSERT_TRUE(server.start(argv, dir_ / "s_server.log", first_line)) << offer[0];
    const Fetch f = fetch(port, url(port, "image.bin"));
    if (offer == accepted) {
      EXPECT_TRUE(f.opened()) << f.out;
      continue;
    }
    EXPECT_FALSE(f.opened()) << f.out;
    EXPECT_EQ(f.error("open").rfind("tls_error:", 0), 0u) << offer.back() << "\n" << f.out;
  }
  // A server that answers the ClientHello with plain HTTP.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::thread plain([fd] {
    const int client = accept(fd, nullptr, nullptr);
    if (client < 0) return;
    char hello[512];
    (void)!::read(client, hello, sizeof hello);
    const char answer[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)!::write(client, answer, sizeof answer - 1);
    ::close(client);
  });
  const uint16_t port = ntohs(address.sin_port);
  const Fetch f = fetch(port, url(port, "image.bin"));
  shutdown(fd, SHUT_RDWR);
  plain.join();
  ::close(fd);
  EXPECT_EQ(f.error("open").rfind("tls_error:", 0), 0u) << f.out;
}

class Rv32NetHostile : public Rv32Net {
 protected:
  test::TempDir root_;
  HostileServer server_{root_.path()};
  const std::vector<uint8_t> body_ = [] {
    std::vector<uint8_t> bytes(10000);
    for (size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<uint8_t>(i % 251);
    return bytes;
  }();
};

TEST_F(Rv32NetHostile, ABodyCutShortIsTruncatedAfterWhatArrived) {
  for (const char* path : {"truncated", "long-length"}) {
    const Fetch f = fetch(server_.port(), url(server_.port(), path));
    EXPECT_TRUE(f.opened()) << f.out;
    EXPECT_EQ(f.line("content-length"), "10000");
    EXPECT_EQ(f.line("body"), "4000 bytes before the error") << path << "\n" << f.out;
    EXPECT_EQ(f.error("read").rfind("truncated:", 0), 0u) << path << "\n" << f.out;
  }
}

TEST_F(Rv32NetHostile, MoreBodyThanContentLengthFails) {
  const Fetch f = fetch(server_.port(), url(server_.port(), "longer"));
  EXPECT_TRUE(f.opened()) << f.out;
  EXPECT_EQ(f.error("read").rfind("trailing_data:", 0), 0u) << f.out;
}

TEST_F(Rv32NetHostile, ReadsChunkedAndCloseDelimitedBodies) {
  const Fetch chunked = fetch(server_.port(), url(server_.port(), "chunked"));
  ASSERT_EQ(chunked.exit_code, 0) << chunked.out;
  EXPECT_EQ(chunked.line("content-length"), "");
  EXPECT_EQ(chunked.line("body"), "10000 bytes sha256 " + sha256_hex(body_.data(), body_.size()));
  const Fetch until_close = fetch(server_.port(), url(server_.port(), "no-length"));
  ASSERT_EQ(until_close.exit_code, 0) << until_close.out;
  EXPECT_EQ(until_close.line("body"), "5000 bytes sha256 " + sha256_hex(body_.data(), 5000));
}

TEST_F(Rv32NetHostile, AsksForIdentityAndRefusesAnyOtherContentEncoding) {
  const Fetch asked = fetch(server_.port(), url(server_.port(), "accept-encoding"));
  ASSERT_EQ(asked.exit_code, 0) << asked.out;
  const std::string identity = "identity";
  EXPECT_EQ(asked.line("body"),
            "8 bytes sha256 " + sha256_hex(reinterpret_cast<const uint8_t*>(identity.data()), 8));
  const Fetch gzip = fetch(server_.port(), url(server_.port(), "gzip"));
  EXPECT_FALSE(gzip.opened()) << gzip.out;
  EXPECT_EQ(gzip.error("open").rfind("unsupported:", 0), 0u) << gzip.out;
}

TEST_F(Rv32NetHostile, AStalledBodyOrASilentServerTimesOutAfterTheStallTimeout) {
  const Fetch stalled = fetch(server_.port(), url(server_.port(), "stall") + "stall-timeout 700\n");
  EXPECT_TRUE(stalled.opened()) << stalled.out;
  EXPECT_EQ(stalled.line("body"), "100 bytes before the error") << stalled.out;
  EXPECT_EQ(stalled.error("read").rfind("timeout:", 0), 0u) << stalled.out;
  const Fetch silent = fetch(server_.port(), url(server_.port(), "silent-head") + "stall-timeout 700\n");
  EXPECT_FALSE(silent.opened()) << silent.out;
  EXPECT_NE(silent.error("open").find("no response head within the stall timeout"), std::string::npos)
      << silent.out;
}

TEST_F(Rv32NetHostile, KeepsHeadersThatFitAndDropsOrFlagsLongerOnes) {
  const Fetch fits = fetch(server_.port(), url(server_.port(), "headers/127/479"));
  EXPECT_TRUE(fits.opened()) << fits.out;
  EXPECT_EQ(fits.line("status"), "302");
  EXPECT_EQ(fits.line("etag").size(), 127u) << fits.out;
  EXPECT_EQ(fits.line("location").size(), 479u) << fits.out;
  EXPECT_EQ(fits.out.find("location-too-long"), std::string::npos) << fits.out;
  const Fetch longer = fetch(server_.port(), url(server_.port(), "headers/128/480"));
  EXPECT_TRUE(longer.opened()) << longer.out;
  EXPECT_EQ(longer.line("etag"), "") << longer.out;
  EXPECT_EQ(longer.line("location"), "") << longer.out;
  EXPECT_NE(longer.out.find("net_fetch: location-too-long"), std::string::npos) << longer.out;
}

TEST_F(Rv32NetHostile, OneByteEvery50MsIsNoStall) {
  const Fetch f = fetch(server_.port(), url(server_.port(), "drip") + "stall-timeout 700\n");
  ASSERT_EQ(f.exit_code, 0) << f.out;
  EXPECT_EQ(f.line("body"), "40 bytes sha256 " + sha256_hex(body_.data(), 40));
}

}  // namespace
}  // namespace privota
