// Real HTTPS servers for tests, on loopback only (127.0.0.1, and 127.0.0.2 for the wrong-host-name case):
// a throwaway PKI, Debian's nginx, and a small fault-injecting server for what nginx will not do. Each
// server is a child process of the test, on a port nobody else has, stopped and reaped when its object
// dies (and sent SIGTERM if the test process dies first). They throw std::runtime_error, with the server's
// own log, when they cannot start.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace privota::test {

// make-test-pki's files, made once per test process.
struct TestPki {
  std::filesystem::path ca_pem;      // the CA clients are configured with
  std::filesystem::path server_pem;  // signed by it, for IP:127.0.0.1, IP:::1, DNS:localhost
  std::filesystem::path server_key;
  std::filesystem::path other_ca_pem;  // unrelated to the server's certificate
  std::filesystem::path expired_pem;   // server_key's certificate, valid in 2020 only
  std::filesystem::path future_pem;    // server_key's certificate, valid from 2099 on

  std::string ca_text() const;
  std::string other_ca_text() const;

  static const TestPki& get();
};

// A port on 127.0.0.1 that was free a moment ago.
uint16_t free_loopback_port();

// A loopback port that refuses connections: bound (so nobody else takes it) but not listening.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A child process that announced itself with one line on stdout; SIGTERM, then SIGKILL, when it dies.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts argv with stderr into `log`, and waits (up to 10 s) for its first line of stdout. False (the
  // process reaped) if it exits or stays silent instead.
  bool start(const std::vector<std::string>& argv, const std::filesystem::path& log, std::string& first_line);
  void stop();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

// nginx serving `docroot` over HTTPS with TestPki's server certificate, through tests/support/nginx-serve
// (the one configuration, tests/support/nginx.conf.in). Besides the files: /status/404, /status/500,
// /redirect/loop, /redirect/to/P and /redirect/relative/P (302 to /P, absolute and relative Location),
// /slow/P (the file P at 4 KB/s).
class NginxServer {
 public:
  struct Options {
    bool second_address = false;        // also listen on 127.0.0.2, which the certificate does not name
    std::filesystem::path certificate;  // instead of TestPki's server_pem (same key)
  };
  explicit NginxServer(const std::filesystem::path& docroot) : NginxServer(docroot, Options{}) {}
  NginxServer(const std::filesystem::path& docroot, Options options);

  uint16_t port() const { return port_; }
  // https://127.0.0.1:PORT/path (path without its leading slash)
  std::string url(const std::string& path) const { return url_on("127.0.0.1", path); }
  std::string url_on(const std::string& address, const std::string& path) const;
  std::string error_log() const;
  std::string access_log() const;

 private:
  TempDir prefix_;
  uint16_t port_ = 0;
  ServerProcess process_;
};

// tests/support/hostile_server.py on a free loopback port: /truncated, /long-length, /reset, /stall,
// /drip, /silent-head, /headers/E/L, /no-length, /huge (8 MiB of byte i = i % 251), /file/NAME and
// /changing/NAME from `root` (see the script for what each does).
class HostileServer {
 public:
  explicit HostileServer(const std::filesystem::path& root);

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

  static constexpr uint32_t kHugeSize = 8 * 1024 * 1024;

 private:
  TempDir logs_;
  uint16_t port_ = 0;
  ServerProcess process_;
};

}  // namespace privota::test
