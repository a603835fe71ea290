// Fakes for the device's core state machines: a job runner the test finishes by hand, and a platform that
// counts what it was asked.
#pragma once

#include <string>
#include <vector>

#include "privota/ota_service.h"
#include "privota/syscall_service.h"

namespace privota::test {

class FakeJobRunner final : public JobRunner {
 public:
  Status start(const JobRequest& request) override {
    requests.push_back(request);
    running = true;
    return start_status;
  }
  void stop(bool keep_journal) override { stops.push_back(keep_journal); }
  JobProgress progress() override { return current; }

  std::vector<JobRequest> requests;
  std::vector<bool> stops;  // keep_journal of each stop
  JobProgress current;
  Status start_status;
  bool running = false;
};

class FakeSyscallPlatform final : public SyscallPlatform {
 public:
  Result<AppDescriptor> verify_user_slot(uint32_t slot) override {
    ++verifications;
    verified_slot = slot;
    if (slot_image.is_ok()) return slot_image;
    return slot_image.status();
  }
  void user_log(uint32_t level, const char* text) override {
    logs.push_back(std::to_string(level) + ":" + text);
  }
  void user_log_dropped(const char* source, uint32_t lines, uint64_t bytes) override {
    drops.push_back(std::string(source) + ":" + std::to_string(lines) + "/" + std::to_string(bytes));
  }

  Result<AppDescriptor> slot_image = Status::error(Code::kNotFound, "empty");
  int verifications = 0;
  uint32_t verified_slot = 99;
  std::vector<std::string> logs;
  std::vector<std::string> drops;
};

// A URL policy that allows https://updates.example.com (and nothing else).
struct TestUrlPolicy {
  const char* hosts[1] = {"updates.example.com"};
  UrlPolicy policy;
  TestUrlPolicy() { policy.allowed_hosts = {hosts, 1}; }
};

inline Span<const char> text(const char* s) {
  return {s, strlen(s)};
}

}  // namespace privota::test
