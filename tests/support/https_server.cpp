#include "https_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace privota::test {
namespace {

const std::filesystem::path kSupport = std::filesystem::path(PRIVOTA_SOURCE_DIR) / "tests" / "support";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string python3() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

int loopback_socket(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() on 127.0.0.1 failed");
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

}  // namespace

std::string TestPki::ca_text() const {
  return read_text(ca_pem);
}
std::string TestPki::other_ca_text() const {
  return read_text(other_ca_pem);
}

const TestPki& TestPki::get() {
  static TempDir dir;
  static const TestPki pki = [] {
    const CommandResult made = run_command(kSupport.string() + "/make-test-pki " + dir.path().string());
    if (made.exit_code != 0) throw std::runtime_error("make-test-pki failed: " + made.out);
    return TestPki{dir / "ca.pem",       dir / "server.pem",  dir / "server.key",
                   dir / "other-ca.pem", dir / "expired.pem", dir / "future.pem"};
  }();
  return pki;
}

uint16_t free_loopback_port() {
  const int fd = loopback_socket(0);
  const uint16_t port = port_of(fd);
  ::close(fd);
  return port;
}

RefusingPort::RefusingPort() : fd_(loopback_socket(0)), port_(port_of(fd_)) {}

RefusingPort::~RefusingPort() {
  ::close(fd_);
}

bool ServerProcess::start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                          std::string& first_line) {
  stop();
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2() failed");
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot create " + log.string());
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls from here to exec. The server must not outlive the test.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(out[1], STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(out[1]);
  ::close(log_fd);
  if (pid_ < 0) {
    ::close(out[0]);
    throw std::runtime_error("fork() failed");
  }
  stdout_fd_ = out[0];

  first_line.clear();
  // Generous: it only bounds how long a broken server takes to be reported; a working one announces itself
  // in milliseconds, but on a loaded 2-core machine process start-up alone has taken seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char c = 0;
    if (::read(stdout_fd_, &c, 1) != 1) break;  // it exited before announcing itself
    if (c == '\n') return true;
    first_line += c;
  }
  stop();
  return false;
}

void ServerProcess::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

NginxServer::NginxServer(const std::filesystem::path& docroot, Options options) {
  const TestPki& pki = TestPki::get();
  std::string why;
  // The port is free when picked but could be taken before nginx binds it: then try another.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    std::vector<std::string> argv = {
        "bash",     (kSupport / "nginx-serve").string(),
        "--root",   docroot.string(),
        "--port",   std::to_string(port_),
        "--cert",   (options.certificate.empty() ? pki.server_pem : options.certificate).string(),
        "--key",    pki.server_key.string(),
        "--prefix", prefix_.path().string()};
    if (options.second_address) argv.insert(argv.end(), {"--also-listen", "127.0.0.2"});
    std::string line;
    if (process_.start(argv, prefix_ / "serve.log", line)) return;
    why = read_text(prefix_ / "serve.log") + error_log();
    if (why.find("Address already in use") == std::string::npos) break;
  }
  throw std::runtime_error("nginx did not start: " + why);
}

std::string NginxServer::url_on(const std::string& address, const std::string& path) const {
  return "https://" + address + ":" + std::to_string(port_) + "/" + path;
}

std::string NginxServer::error_log() const {
  return read_text(prefix_ / "error.log");
}

std::string NginxServer::access_log() const {
  return read_text(prefix_ / "access.log");
}

HostileServer::HostileServer(const std::filesystem::path& root) {
  const TestPki& pki = TestPki::get();
  const std::vector<std::string> argv = {python3(), (kSupport / "hostile_server.py").string(),
                                         "--cert",  pki.server_pem.string(),
                                         "--key",   pki.server_key.string(),
                                         "--root",  root.string()};
  std::string line;
  if (!process_.start(argv, logs_ / "hostile.log", line))
    throw std::runtime_error("hostile_server.py did not start: " + read_text(logs_ / "hostile.log"));
  port_ = static_cast<uint16_t>(std::stoi(line));
}

std::string HostileServer::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/" + path;
}

}  // namespace privota::test
