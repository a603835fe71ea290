// The user-app SDK against a fake protected app on the other end of a SOCK_SEQPACKET socketpair: every call's
// request and response, the error conventions, and the example user apps run as real child processes with
// their channel on fd 3.
#include "privota/user.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "privota/syscall.h"
#include "test_support.h"
#include "user_sdk_testing.h"

namespace privota::user {
namespace {

using syscall::Call;
using syscall::Frame;

std::vector<uint8_t> encoded(const Frame& f) {
  std::vector<uint8_t> bytes(syscall::kFrameSize);
  EXPECT_TRUE(syscall::encode(f, {bytes.data(), bytes.size()}).is_ok());
  return bytes;
}

// A protected app reduced to a thread: decodes each request with the core decoder and answers it. Tests
// change an answer through `answer` (edit the response, or return raw bytes to send instead; nullopt = the
// frame).
class FakeProtectedApp {
 public:
  struct Reply {
    bool close_channel = false;
    std::optional<std::vector<uint8_t>> raw;
  };
  using Answer = std::function<Reply(const Frame& request, Frame& response)>;

  FakeProtectedApp() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    server_ = fds[0];
    client_ = fds[1];
  }
  ~FakeProtectedApp() {
    close_client();
    if (thread_.joinable()) thread_.join();
    close(server_);
  }

  // The end a user app talks through (fd 3 of a child, or the SDK in this process).
  int client() const { return client_; }
  void close_client() {
    if (client_ >= 0) close(client_);
    client_ = -1;
  }
  void start() {
    thread_ = std::thread([this] { serve(); });
  }
  void wait_until_done() {
    if (thread_.joinable()) thread_.join();
  }

  Answer answer;
  uint32_t app_state = PRIVOTA_APP_VALID;
  std::string app_text = "hello 1.2.0";

  std::vector<Frame> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }
  int malformed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return malformed_;
  }
  int calls(Call call) {
    int n = 0;
    for (const Frame& f : requests())
      n += f.call == call ? 1 : 0;
    return n;
  }

 private:
  // A zero-length SOCK_SEQPACKET message also reads as 0 bytes: only a hung-up peer is the end.
  bool peer_gone() {
    pollfd p{server_, POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
  }

  void serve() {
    std::vector<uint8_t> bytes(2048);
    for (;;) {
      const ssize_t n = recv(server_, bytes.data(), bytes.size(), 0);
      if (n < 0 || (n == 0 && peer_gone())) return;
      const Result<Frame> request = syscall::decode({bytes.data(), static_cast<size_t>(n)}, false);
      Frame response;
      response.response = true;
      if (!request.is_ok()) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ++malformed_;
        }
        response.call = Call::kLog;
        response.status = request.status().code();
        send_bytes(encoded(response));
        continue;
      }
      response.call = request->call;
      response.id = request->id;
      fill(*request, response);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(*request);
        if (request->call == Call::kLog) logs_.push_back(request->string());
      }
      Reply reply;
      if (answer) reply = answer(*request, response);
      if (reply.close_channel) {
        shutdown(server_, SHUT_RDWR);
        return;
      }
      send_bytes(reply.raw ? *reply.raw : encoded(response));
    }
  }

  void fill(const Frame& request, Frame& response) {
    switch (request.call) {
      case Call::kAppInfo:
        response.values[0] = request.values[0] == syscall::kRunningSlot ? 1 : request.values[0];
        response.values[1] = 3;
        response.values[2] = app_state;
        response.values[3] = response.values[0] == 1;
        EXPECT_TRUE(response.set_string(app_text.c_str()).is_ok());
        break;
      case Call::kOtaStart:
        response.values[0] = 7;
        break;
      case Call::kFleetOffer:
        EXPECT_TRUE(response.set_string("r1-dev-a 2.0.0").is_ok());
        break;
      case Call::kOtaStatus: {
        // A job that advances 64 KiB per poll through a 256 KiB image, then verifies and is done.
        constexpr uint32_t kTotal = 262144;
        job_done_ = job_done_ < kTotal ? job_done_ + 65536 : job_done_;
        const uint32_t state = job_done_ < kTotal ? PRIVOTA_OTA_DOWNLOADING
                               : verified_++ == 0 ? PRIVOTA_OTA_VERIFYING
                                                  : PRIVOTA_OTA_REBOOTING;
        response.values[0] = state;
        response.values[1] = job_done_;
        response.values[2] = kTotal;
        break;
      }
      default:
        break;
    }
  }

  void send_bytes(const std::vector<uint8_t>& bytes) {
    (void)send(server_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  int server_ = -1;
  int client_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Frame> requests_;
  std::vector<std::string> logs_;
  int malformed_ = 0;
  uint32_t job_done_ = 0;
  int verified_ = 0;
};

// The SDK of this process talking to a fake.
class UserSdk : public ::testing::Test {
 protected:
  void SetUp() override {
    set_channel_fd(fake_.client());
    fake_.start();
  }
  void TearDown() override { set_channel_fd(PRIVOTA_CHANNEL_FD); }
  Frame only_request() {
    const std::vector<Frame> got = fake_.requests();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? Frame{} : got[0];
  }

  FakeProtectedApp fake_;
};

TEST_F(UserSdk, AppInfoOfTheRunningSlot) {
  privota_app_info_t info;
  ASSERT_EQ(privota_app_info(PRIVOTA_RUNNING_SLOT, &info), PRIVOTA_OK);
  const Frame request = only_request();
  EXPECT_EQ(request.call, Call::kAppInfo);
  EXPECT_EQ(request.values[0], syscall::kRunningSlot);
  EXPECT_EQ(request.payload_len, 0);
  EXPECT_EQ(info.slot, 1u);
  EXPECT_EQ(info.secure_version, 3u);
  EXPECT_EQ(info.state, PRIVOTA_APP_VALID);
  EXPECT_NE(info.running, 0);
  EXPECT_STREQ(info.project, "hello");
  EXPECT_STREQ(info.version, "1.2.0");
}

TEST_F(UserSdk, AppInfoOfAnotherSlot) {
  privota_app_info_t info;
  ASSERT_EQ(privota_app_info(0, &info), PRIVOTA_OK);
  EXPECT_EQ(only_request().values[0], 0u);
  EXPECT_EQ(info.slot, 0u);
  EXPECT_EQ(info.running, 0);
}

TEST_F(UserSdk, AppInfoTakesFullLengthDescriptorStrings) {
  fake_.app_text = std::string(32, 'p') + " " + std::string(32, 'v');
  privota_app_info_t info;
  ASSERT_EQ(privota_app_info(PRIVOTA_RUNNING_SLOT, &info), PRIVOTA_OK);
  EXPECT_EQ(std::string(info.project), std::string(32, 'p'));
  EXPECT_EQ(std::string(info.version), std::string(32, 'v'));
}

TEST_F(UserSdk, FleetOfferReadsTheOfferedJobAndAnswerSendsItsId) {
  privota_fleet_offer_t offer;
  ASSERT_EQ(privota_fleet_offer(&offer), PRIVOTA_OK);
  EXPECT_STREQ(offer.job_id, "r1-dev-a");
  EXPECT_STREQ(offer.version, "2.0.0");
  ASSERT_EQ(privota_fleet_answer(offer.job_id, PRIVOTA_FLEET_DEFER), PRIVOTA_OK);
  const std::vector<Frame> got = fake_.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].call, Call::kFleetOffer);
  EXPECT_EQ(got[1].call, Call::kFleetAnswer);
  EXPECT_EQ(got[1].values[0], static_cast<uint32_t>(PRIVOTA_FLEET_DEFER));
  EXPECT_STREQ(got[1].string(), "r1-dev-a");
  // What the SDK can check itself is refused without a call.
  EXPECT_EQ(privota_fleet_answer("r1-dev-a", 3), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_fleet_answer("", PRIVOTA_FLEET_ACCEPT), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_fleet_answer(std::string(97, 'j').c_str(), PRIVOTA_FLEET_ACCEPT),
            PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_fleet_offer(nullptr), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(fake_.requests().size(), 2u);
}

TEST_F(UserSdk, AppInfoRefusesWhatItWouldHaveToCut) {
  privota_app_info_t info;
  for (const std::string& text :
       {std::string(33, 'p') + " 1.0", "hello " + std::string(33, 'v'), std::string("no-space")}) {
    fake_.app_text = text;
    EXPECT_EQ(privota_app_info(PRIVOTA_RUNNING_SLOT, &info), PRIVOTA_ERR_PROTOCOL) << text;
  }
}

TEST_F(UserSdk, OtaStartSendsTheUrlAndReturnsTheJob) {
  uint32_t job = 0;
  ASSERT_EQ(privota_ota_start("https://updates.example/user.bin", &job), PRIVOTA_OK);
  EXPECT_EQ(job, 7u);
  const Frame request = only_request();
  EXPECT_EQ(request.call, Call::kOtaStart);
  EXPECT_STREQ(request.string(), "https://updates.example/user.bin");
}

TEST_F(UserSdk, OtaStartWhenBusyReportsTheRunningJob) {
  fake_.answer = [](const Frame&, Frame& r) {
    r.status = Code::kBusy;
    r.values[0] = 4;
    return FakeProtectedApp::Reply{};
  };
  uint32_t job = 0;
  EXPECT_EQ(privota_ota_start("https://updates.example/user.bin", &job), PRIVOTA_E_BUSY);
  EXPECT_EQ(job, 4u);
}

TEST_F(UserSdk, OtaStatusDecodesEveryField) {
  fake_.answer = [](const Frame&, Frame& r) {
    r.values[0] = PRIVOTA_OTA_FAILED;
    r.values[1] = 4096;
    r.values[2] = 262144;
    r.values[3] = PRIVOTA_E_BAD_SIGNATURE;
    EXPECT_TRUE(r.set_string("signature does not verify").is_ok());
    return FakeProtectedApp::Reply{};
  };
  privota_ota_status_t status;
  ASSERT_EQ(privota_ota_status(7, &status), PRIVOTA_OK);
  EXPECT_STREQ(status.reason, "signature does not verify");
  EXPECT_EQ(only_request().call, Call::kOtaStatus);
  EXPECT_EQ(only_request().values[0], 7u);
  EXPECT_EQ(status.state, static_cast<uint32_t>(PRIVOTA_OTA_FAILED));
  EXPECT_EQ(status.bytes_done, 4096u);
  EXPECT_EQ(status.bytes_total, 262144u);
  EXPECT_EQ(status.error, PRIVOTA_E_BAD_SIGNATURE);
}

TEST_F(UserSdk, OtaStatusWithAReasonLongerThanTheFieldIsAProtocolErrorNotCut) {
  fake_.answer = [](const Frame&, Frame& r) {
    r.values[0] = PRIVOTA_OTA_FAILED;
    EXPECT_TRUE(r.set_string(std::string(PRIVOTA_REASON_MAX + 1, 'x').c_str()).is_ok());
    return FakeProtectedApp::Reply{};
  };
  privota_ota_status_t status;
  EXPECT_EQ(privota_ota_status(7, &status), PRIVOTA_ERR_PROTOCOL);
}

TEST_F(UserSdk, OtaStatusWithAnUnknownErrorCodeIsAProtocolError) {
  fake_.answer = [](const Frame&, Frame& r) {
    r.values[3] = 200;
    return FakeProtectedApp::Reply{};
  };
  privota_ota_status_t status;
  EXPECT_EQ(privota_ota_status(7, &status), PRIVOTA_ERR_PROTOCOL);
}

TEST_F(UserSdk, CallsWithoutPayloadSendTheirCallNumber) {
  struct Row {
    int (*call)();
    Call expected;
  };
  const Row rows[] = {
      {[] { return privota_ota_cancel(9); }, Call::kOtaCancel},
      {[] { return privota_ota_mark_valid(); }, Call::kOtaMarkValid},
      {[] { return privota_ota_mark_invalid_and_reboot(); }, Call::kOtaMarkInvalidAndReboot},
      {[] { return privota_restart(); }, Call::kRestart},
      {[] { return privota_watchdog_feed(); }, Call::kWatchdogFeed},
  };
  for (const Row& row : rows)
    EXPECT_EQ(row.call(), PRIVOTA_OK) << syscall::call_name(row.expected);
  const std::vector<Frame> got = fake_.requests();
  ASSERT_EQ(got.size(), std::size(rows));
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].call, rows[i].expected);
    EXPECT_EQ(got[i].payload_len, 0);
  }
  EXPECT_EQ(got[0].values[0], 9u);
}

TEST_F(UserSdk, LogSendsLevelAndText) {
  ASSERT_EQ(privota_log(PRIVOTA_LOG_WARN, "disk almost full"), PRIVOTA_OK);
  const Frame request = only_request();
  EXPECT_EQ(request.call, Call::kLog);
  EXPECT_EQ(request.values[0], static_cast<uint32_t>(PRIVOTA_LOG_WARN));
  EXPECT_STREQ(request.string(), "disk almost full");
}

TEST_F(UserSdk, RequestIdsCountUpFromOne) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(privota_ota_mark_valid(), PRIVOTA_OK);
  const std::vector<Frame> got = fake_.requests();
  ASSERT_EQ(got.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i)
    EXPECT_EQ(got[i].id, i + 1);
}

TEST_F(UserSdk, ARefusalIsItsPositiveCode) {
  fake_.answer = [](const Frame&, Frame& r) {
    r.status = Code::kUntrusted;
    return FakeProtectedApp::Reply{};
  };
  uint32_t job = 123;
  const int err = privota_ota_start("http://evil.example/x.bin", &job);
  EXPECT_EQ(err, PRIVOTA_E_UNTRUSTED);
  EXPECT_EQ(job, 123u) << "no job id on a refusal";
  EXPECT_STREQ(privota_error_name(err), "untrusted");
}

TEST_F(UserSdk, AnAnswerToAnotherRequestIsAProtocolError) {
  struct Row {
    const char* what;
    std::function<void(Frame&)> change;
  };
  const Row rows[] = {
      {"next id", [](Frame& r) { r.id += 1; }},
      {"previous id", [](Frame& r) { r.id -= 1; }},
      {"other call", [](Frame& r) { r.call = Call::kRestart; }},
  };
  for (const Row& row : rows) {
    fake_.answer = [&](const Frame&, Frame& r) {
      row.change(r);
      return FakeProtectedApp::Reply{};
    };
    EXPECT_EQ(privota_ota_mark_valid(), PRIVOTA_ERR_PROTOCOL) << row.what;
  }
}

TEST_F(UserSdk, MalformedAnswersAreTransportErrors) {
  struct Row {
    const char* what;
    std::function<std::vector<uint8_t>(const Frame& response)> bytes;
    int expected;
  };
  const Row rows[] = {
      {"short",
       [](const Frame& r) {
         std::vector<uint8_t> b = encoded(r);
         b.resize(100);
         return b;
       },
       PRIVOTA_ERR_SHORT_READ},
      {"long",
       [](const Frame& r) {
         std::vector<uint8_t> b = encoded(r);
         b.resize(600);
         return b;
       },
       PRIVOTA_ERR_SHORT_READ},
      // A zero-length message reads exactly like a hang-up.
      {"empty", [](const Frame&) { return std::vector<uint8_t>(); }, PRIVOTA_ERR_CLOSED},
      {"bad magic",
       [](const Frame& r) {
         std::vector<uint8_t> b = encoded(r);
         b[0] ^= 0xFF;
         return b;
       },
       PRIVOTA_ERR_PROTOCOL},
      {"a request, not a response",
       [](const Frame& r) {
         Frame q = r;
         q.response = false;
         q.status = Code::kOk;
         return encoded(q);
       },
       PRIVOTA_ERR_PROTOCOL},
  };
  for (const Row& row : rows) {
    fake_.answer = [&](const Frame&, Frame& r) { return FakeProtectedApp::Reply{false, row.bytes(r)}; };
    EXPECT_EQ(privota_ota_mark_valid(), row.expected) << row.what;
  }
}

TEST_F(UserSdk, AClosedChannelIsANegativeError) {
  fake_.answer = [](const Frame&, Frame&) { return FakeProtectedApp::Reply{true, std::nullopt}; };
  EXPECT_EQ(privota_ota_mark_valid(), PRIVOTA_ERR_CLOSED) << "closed while waiting for the answer";
  fake_.wait_until_done();
  EXPECT_EQ(privota_log(PRIVOTA_LOG_INFO, "anyone?"), PRIVOTA_ERR_CLOSED) << "closed before the request";
  EXPECT_STREQ(privota_error_name(PRIVOTA_ERR_CLOSED), "channel_closed");
}

TEST_F(UserSdk, NoChannelAtAllIsClosed) {
  set_channel_fd(1000);  // never opened
  EXPECT_EQ(privota_ota_mark_valid(), PRIVOTA_ERR_CLOSED);
}

TEST_F(UserSdk, TooLongStringsAreRefusedWithoutSendingAnything) {
  const std::string longest(PRIVOTA_MAX_STRING, 'u');
  const std::string too_long(PRIVOTA_MAX_STRING + 1, 'u');
  uint32_t job = 0;
  EXPECT_EQ(privota_ota_start(too_long.c_str(), &job), PRIVOTA_E_LIMIT_EXCEEDED);
  EXPECT_EQ(privota_log(PRIVOTA_LOG_INFO, too_long.c_str()), PRIVOTA_E_LIMIT_EXCEEDED);
  EXPECT_TRUE(fake_.requests().empty());
  ASSERT_EQ(privota_ota_start(longest.c_str(), &job), PRIVOTA_OK);
  EXPECT_EQ(std::string(only_request().string()), longest) << "the longest URL goes through whole";
}

TEST_F(UserSdk, BadArgumentsAreRefusedWithoutSendingAnything) {
  uint32_t job;
  EXPECT_EQ(privota_ota_start(nullptr, &job), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_ota_start("https://a/b", nullptr), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_ota_status(1, nullptr), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_app_info(0, nullptr), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_log(PRIVOTA_LOG_INFO, nullptr), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_log(-1, "x"), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_log(PRIVOTA_LOG_VERBOSE + 1, "x"), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_TRUE(fake_.requests().empty());
}

TEST(UserSdkErrorName, NamesEveryValue) {
  EXPECT_STREQ(privota_error_name(PRIVOTA_OK), "ok");
  EXPECT_STREQ(privota_error_name(PRIVOTA_E_ROLLBACK), "rollback");
  EXPECT_STREQ(privota_error_name(PRIVOTA_ERR_IO), "channel_io_error");
  EXPECT_STREQ(privota_error_name(PRIVOTA_ERR_SHORT_READ), "channel_short_read");
  EXPECT_STREQ(privota_error_name(PRIVOTA_ERR_PROTOCOL), "channel_protocol_error");
  EXPECT_STREQ(privota_error_name(-99), "unknown");
  EXPECT_STREQ(privota_error_name(99), "unknown");
}

TEST(UserSdkHeader, IsPlainC) {
  const test::CommandResult r = test::run_command(
      "cc -x c -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I" PRIVOTA_SOURCE_DIR
      "/include " PRIVOTA_SOURCE_DIR "/include/privota/user.h");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// --- the example user apps, as child processes with the channel on fd 3.

std::filesystem::path example(const std::string& name) {
  return std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "examples" / name;
}

struct Exit {
  bool exited = false;
  int code = -1;    // exit status when exited
  int signal = 0;   // terminating signal otherwise
  std::string out;  // stdout and stderr
};

class ExampleApp {
 public:
  // Starts `name args...` with fd 3 = `channel`; `address_space` > 0 sets RLIMIT_AS for the child.
  ExampleApp(const std::string& name, const std::vector<std::string>& args, int channel,
             rlim_t address_space = 0)
      : output_(dir_ / "out.txt") {
    const std::string path = example(name).string();
    std::vector<std::string> words{name};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words)
      argv.push_back(w.data());
    argv.push_back(nullptr);
    const int out = open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(out, 0);
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      if (dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
      if (channel == PRIVOTA_CHANNEL_FD) {
        if (fcntl(channel, F_SETFD, 0) != 0) _exit(126);
      } else if (dup2(channel, PRIVOTA_CHANNEL_FD) < 0) {
        _exit(126);
      }
      if (address_space > 0) {
        const rlimit limit{address_space, address_space};
        if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(126);
      }
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(out);
    EXPECT_GT(pid_, 0);
  }
  ~ExampleApp() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool alive() {
    int status;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }
  void kill_it() { kill(pid_, SIGKILL); }

  Exit wait(std::chrono::seconds limit = std::chrono::seconds(30)) {
    Exit e;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        ADD_FAILURE() << "example did not end in time";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    reaped_ = true;
    e.exited = WIFEXITED(status);
    e.code = e.exited ? WEXITSTATUS(status) : -1;
    e.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    const std::vector<uint8_t> bytes = test::read_file(output_);
    e.out.assign(bytes.begin(), bytes.end());
    return e;
  }

 private:
  test::TempDir dir_;
  std::filesystem::path output_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Runs one example against a fresh fake to its end.
struct ExampleRun {
  Exit exit;
  std::vector<Frame> requests;
  std::vector<std::string> logs;
  int malformed = 0;
};

ExampleRun run_example(const std::string& name, const std::vector<std::string>& args,
                       const std::function<void(FakeProtectedApp&)>& setup = {}, rlim_t address_space = 0) {
  FakeProtectedApp fake;
  if (setup) setup(fake);
  fake.start();
  ExampleRun run;
  {
    ExampleApp app(name, args, fake.client(), address_space);
    fake.close_client();  // the child holds the only client end now: its exit ends the fake
    run.exit = app.wait();
  }
  fake.wait_until_done();
  run.requests = fake.requests();
  run.logs = fake.logs();
  run.malformed = fake.malformed();
  return run;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(UserSdkExamples, HelloPrintsItselfConfirmsAndLogs) {
  const ExampleRun run = run_example("hello", {});
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  EXPECT_TRUE(contains(run.exit.out, "hello 1.2.0, slot user_1, secure_version 3")) << run.exit.out;
  ASSERT_EQ(run.requests.size(), 3u);
  EXPECT_EQ(run.requests[0].call, Call::kAppInfo);
  EXPECT_EQ(run.requests[1].call, Call::kOtaMarkValid);
  ASSERT_EQ(run.logs.size(), 1u);
  EXPECT_EQ(run.logs[0], "hello from 1.2.0");
}

TEST(UserSdkExamples, HelloWithoutAProtectedAppFails) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[0]);  // the protected app is gone
  ExampleApp app("hello", {}, fds[1]);
  close(fds[1]);
  const Exit e = app.wait();
  EXPECT_TRUE(e.exited && e.code == 1) << e.out;
  EXPECT_TRUE(contains(e.out, "app_info: channel_closed")) << e.out;
}

TEST(UserSdkExamples, CrasherCrashesOnItsTrialBoot) {
  for (const uint32_t trial : {PRIVOTA_APP_NEW, PRIVOTA_APP_PENDING_VERIFY}) {
    const ExampleRun run = run_example("crasher", {}, [&](FakeProtectedApp& f) { f.app_state = trial; });
    EXPECT_FALSE(run.exit.exited) << run.exit.out;
    EXPECT_TRUE(run.exit.signal == SIGSEGV || run.exit.signal == SIGABRT) << run.exit.signal;
    EXPECT_EQ(run.requests.size(), 1u) << "it never confirms";
  }
}

TEST(UserSdkExamples, CrasherBehavesOnceValid) {
  const ExampleRun run = run_example("crasher", {});
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  ASSERT_EQ(run.requests.size(), 3u);
  EXPECT_EQ(run.requests[1].call, Call::kOtaMarkValid);
}

TEST(UserSdkExamples, SleeperNeverConfirmsAndStaysUntilKilled) {
  FakeProtectedApp fake;
  fake.start();
  ExampleApp app("sleeper", {}, fake.client());
  fake.close_client();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(app.alive());
  app.kill_it();
  const Exit e = app.wait();
  EXPECT_EQ(e.signal, SIGKILL);
  fake.wait_until_done();
  EXPECT_EQ(fake.calls(Call::kLog), 1);
  EXPECT_EQ(fake.calls(Call::kOtaMarkValid), 0);
}

TEST(UserSdkExamples, UpdaterPrintsProgressUntilDone) {
  const ExampleRun run = run_example("updater", {"https://updates.example/user.bin"});
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  ASSERT_FALSE(run.requests.empty());
  EXPECT_EQ(run.requests[0].call, Call::kOtaMarkValid) << "confirms itself first";
  EXPECT_EQ(run.requests[1].call, Call::kAppInfo);
  EXPECT_STREQ(run.requests[2].string(), "https://updates.example/user.bin");
  EXPECT_TRUE(contains(run.exit.out, "updater: hello 1.2.0 running from user_1")) << run.exit.out;
  for (const char* line :
       {"[##        ] 25% 65536/262144 downloading", "[#####     ] 50% 131072/262144",
        "[##########] 100% 262144/262144 verifying", "100% 262144/262144 rebooting", "job 7 done"}) {
    EXPECT_TRUE(contains(run.exit.out, line)) << line << " not in:\n" << run.exit.out;
  }
}

TEST(UserSdkExamples, UpdaterWithoutAUrlConfirmsAndEnds) {
  const ExampleRun run = run_example("updater", {});
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  EXPECT_TRUE(contains(run.exit.out, "no update asked for")) << run.exit.out;
  ASSERT_EQ(run.requests.size(), 2u);
  EXPECT_EQ(run.requests[0].call, Call::kOtaMarkValid);
}

TEST(UserSdkExamples, UpdaterReportsARefusedUpdateAndEndsNormally) {
  const ExampleRun run = run_example("updater", {"http://evil.example/x.bin"}, [](FakeProtectedApp& f) {
    f.answer = [](const Frame& q, Frame& r) {
      if (q.call == Call::kOtaStart) r.status = Code::kUntrusted;
      return FakeProtectedApp::Reply{};
    };
  });
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  EXPECT_TRUE(contains(run.exit.out, "ota_start: untrusted")) << run.exit.out;
}

TEST(UserSdkExamples, IntruderSurvivesItsOwnGarbageFrames) {
  const ExampleRun run = run_example("intruder", {"garbage"});
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  ASSERT_FALSE(run.logs.empty());
  EXPECT_TRUE(contains(run.logs.back(), "BLOCKED garbage frames")) << run.logs.back();
  // Every size 0..1024 once, sizes 4.. again behind a valid magic, and 14 frames with one bad field.
  EXPECT_EQ(run.malformed, 1025 + 1021 + 14);
}

TEST(UserSdkExamples, IntruderReportsEachAttempt) {
  const ExampleRun blocked = run_example("intruder", {"open-flash", "/nonexistent/flash.bin"});
  EXPECT_TRUE(blocked.exit.exited && blocked.exit.code == 0) << blocked.exit.out;
  ASSERT_EQ(blocked.logs.size(), 2u);
  EXPECT_EQ(blocked.logs[0], "BLOCKED open-rw /nonexistent/flash.bin (ENOENT)");
  // Outside a sandbox a socket is simply created: the intruder must say so.
  const ExampleRun escaped = run_example("intruder", {"socket"});
  EXPECT_TRUE(escaped.exit.exited && escaped.exit.code == 1) << escaped.exit.out;
  ASSERT_EQ(escaped.logs.size(), 1u);
  EXPECT_TRUE(contains(escaped.logs[0], "ESCAPED socket AF_INET")) << escaped.logs[0];
  const ExampleRun forks = run_example("intruder", {"fork-bomb"});
  EXPECT_TRUE(forks.exit.exited && forks.exit.code == 1) << forks.exit.out;
  ASSERT_EQ(forks.logs.size(), 1u);
  EXPECT_EQ(forks.logs[0], "ESCAPED fork x64 (64 processes created)");
  const ExampleRun connects = run_example("intruder", {"connect"});
  ASSERT_EQ(connects.logs.size(), 1u);
  EXPECT_TRUE(contains(connects.logs[0], "ESCAPED connect 127.0.0.1:9")) << connects.logs[0];
  // A working execve leaves only its TRY line: /bin/true exits 0 and reports nothing.
  const ExampleRun execs = run_example("intruder", {"exec"});
  EXPECT_TRUE(execs.exit.exited && execs.exit.code == 0) << execs.exit.out;
  EXPECT_TRUE(contains(execs.exit.out, "TRY execve /bin/true")) << execs.exit.out;
  EXPECT_TRUE(execs.logs.empty());
  const ExampleRun usage = run_example("intruder", {"teleport"});
  EXPECT_TRUE(usage.exit.exited && usage.exit.code == 2) << usage.exit.out;
}

#if !defined(__SANITIZE_ADDRESS__)  // ASan reserves terabytes of address space: no RLIMIT_AS under it
TEST(UserSdkExamples, IntruderAllocationStopsAtTheMemoryLimit) {
  const ExampleRun run = run_example("intruder", {"alloc"}, {}, rlim_t{256} << 20);
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.out;
  ASSERT_EQ(run.logs.size(), 1u);
  EXPECT_TRUE(contains(run.logs[0], "BLOCKED allocate 4096 MiB (stopped at")) << run.logs[0];
}
#endif

TEST_F(UserSdk, WatchdogArmSendsItsPeriodAndRefusesImpossibleOnes) {
  EXPECT_EQ(privota_watchdog_arm(PRIVOTA_WATCHDOG_MIN_MS - 1), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_EQ(privota_watchdog_arm(PRIVOTA_WATCHDOG_MAX_MS + 1), PRIVOTA_E_INVALID_ARGUMENT);
  EXPECT_TRUE(fake_.requests().empty()) << "nothing is sent for a period the ABI refuses";
  EXPECT_EQ(privota_watchdog_arm(500), PRIVOTA_OK);
  EXPECT_EQ(privota_watchdog_arm(0), PRIVOTA_OK);
  const std::vector<Frame> got = fake_.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].call, Call::kWatchdogArm);
  EXPECT_EQ(got[0].values[0], 500u);
  EXPECT_EQ(got[1].values[0], 0u);
}

}  // namespace
}  // namespace privota::user
