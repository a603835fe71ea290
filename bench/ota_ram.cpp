// Peak RAM of one OTA job: heap through a counting allocator (this binary's malloc family wraps glibc's, so
// operator new, mbedTLS, libcurl and OpenSSL are all counted) and the stack high-water mark (the job runs on
// a thread whose stack is ours, filled with a pattern, scanned afterwards for the deepest byte touched).
//
// Twice: against an in-memory Transport (no TLS: the job's own RAM, what the core and its crypto need) and
// with CurlTransport over HTTPS to nginx; the difference is what TLS (libcurl + OpenSSL) costs on top.
//
// Usage: privota-bench-ram --tls-ca CA.pem --work DIR --url URL --image FILE --user-ca CA_CERT.pem
//          [--json FILE]
#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ota_rig.h"
#include "privota/host/curl_transport.h"

// --- the counting allocator -------------------------------------------------------------------------------

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {

std::atomic<long long> g_heap_now{0};
std::atomic<long long> g_heap_peak{0};

void count_in(void* p) {
  if (p == nullptr) return;
  const long long now = g_heap_now += static_cast<long long>(malloc_usable_size(p));
  long long peak = g_heap_peak.load();
  while (now > peak && !g_heap_peak.compare_exchange_weak(peak, now)) {
  }
}

void count_out(void* p) {
  if (p != nullptr) g_heap_now -= static_cast<long long>(malloc_usable_size(p));
}

}  // namespace

extern "C" {
void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  count_in(p);
  return p;
}
void free(void* p) {
  count_out(p);
  __libc_free(p);
}
void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  count_in(p);
  return p;
}
void* realloc(void* old, size_t n) {
  count_out(old);
  void* p = __libc_realloc(old, n);
  // A failed realloc keeps the old block.
  count_in(p != nullptr || n == 0 ? p : old);
  return p;
}
void* memalign(size_t alignment, size_t n) {
  void* p = __libc_memalign(alignment, n);
  count_in(p);
  return p;
}
void* aligned_alloc(size_t alignment, size_t n) {
  return memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  void* p = memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}

namespace privota::bench {
namespace {

// --- the stack high-water mark ----------------------------------------------------------------------------

constexpr size_t kStackBytes = 1024 * 1024;
constexpr uint8_t kPattern = 0xA5;
uint8_t* g_stack_low = nullptr;  // the measured thread's stack

// Called from the job's own frame just before run(): forgets what the set-up (flash file, partition table,
// CA parsing) touched below it, so that the mark is the job's depth, not the set-up's.
__attribute__((noinline)) void refill_below_here() {
  // memset's own frame stays above the limit.
  const uintptr_t limit = reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - 1024;
  const uintptr_t low = reinterpret_cast<uintptr_t>(g_stack_low);
  if (g_stack_low != nullptr && limit > low) std::memset(g_stack_low, kPattern, limit - low);
}

// Runs `body` on a thread with a pattern-filled stack of our own; returns the bytes below the top ever
// written. glibc keeps the thread's descriptor and static TLS at the top of a caller-given stack: subtract a
// run with an empty body to get the body's own depth.
// Bytes below the top of the measured thread's stack ever written so far.
size_t stack_mark() {
  size_t untouched = 0;
  while (untouched < kStackBytes && g_stack_low[untouched] == kPattern)
    ++untouched;
  return kStackBytes - untouched;
}

size_t stack_used(const std::function<void()>& body) {
  std::vector<uint8_t> stack(kStackBytes, kPattern);
  g_stack_low = stack.data();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, stack.data(), stack.size());
  pthread_t thread;
  auto trampoline = [](void* fn) -> void* {
    (*static_cast<const std::function<void()>*>(fn))();
    return nullptr;
  };
  if (pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()>*>(&body)) != 0)
    throw std::runtime_error("pthread_create failed");
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  g_stack_low = nullptr;
  size_t untouched = 0;
  while (untouched < stack.size() && stack[untouched] == kPattern)
    ++untouched;
  return stack.size() - untouched;
}

// --- an in-memory server ----------------------------------------------------------------------------------

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(const std::string& file) : file_(file) {}
  Status open(const HttpRequest&, HttpResponse& response) override {
    response.status = 200;
    response.has_content_length = true;
    response.content_length = static_cast<uint32_t>(file_.size());
    std::strcpy(response.etag, "\"bench\"");
    sent_ = 0;
    return Status::ok();
  }
  Result<size_t> read(ByteSpan out) override {
    const size_t n = std::min(out.size(), file_.size() - sent_);
    std::memcpy(out.data(), file_.data() + sent_, n);
    sent_ += n;
    return n;
  }
  void close() override {}

 private:
  const std::string& file_;
  size_t sent_ = 0;
};

// Heap during OtaJob::run(): from the moment the job and its context exist.
class HeapDuringRun final : public RunHooks {
 public:
  void before_run() override {
    refill_below_here();
    base_ = g_heap_now.load();
    g_heap_peak = base_;
  }
  void after_run(const OtaJob&) override {
    peak = g_heap_peak.load() - base_;
    verify_stack = stack_mark();
  }
  // The download's depth is taken when verification starts; then the mark is reset for verification's.
  void on_state(JobState state) override {
    if (state != JobState::kVerifying) return;
    download_stack = stack_mark();
    refill_below_here();
  }
  long long peak = 0;
  size_t download_stack = 0;  // from the top of the thread's stack
  size_t verify_stack = 0;

 private:
  long long base_ = 0;
};

struct Measured {
  size_t download_stack = 0;
  size_t verify_stack = 0;
  long long heap_run = 0;        // peak heap during run(), above what was there before it
  long long heap_transport = 0;  // what constructing the transport left allocated
  size_t stack = 0;
  Status status;
};

Measured measure(const std::function<Measured()>& job) {
  Measured m;
  const size_t empty = stack_used([] {});
  const size_t used = stack_used([&] { m = job(); });
  m.stack = used - empty;
  m.download_stack -= std::min(m.download_stack, empty);
  m.verify_stack -= std::min(m.verify_stack, empty);
  return m;
}

}  // namespace
}  // namespace privota::bench

int main(int argc, char** argv) {
  using namespace privota;
  using namespace privota::bench;
  try {
    std::string tls_ca, work, url, image_path, user_ca, json;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string arg = argv[i], value = argv[i + 1];
      if (arg == "--tls-ca")
        tls_ca = value;
      else if (arg == "--work")
        work = value;
      else if (arg == "--url")
        url = value;
      else if (arg == "--image")
        image_path = value;
      else if (arg == "--user-ca")
        user_ca = value;
      else if (arg == "--json")
        json = value;
      else
        throw std::runtime_error("unknown argument " + arg);
    }
    if (tls_ca.empty() || work.empty() || url.empty() || image_path.empty() || user_ca.empty())
      throw std::runtime_error(
          "usage: privota-bench-ram --tls-ca CA --work DIR --url URL --image F --user-ca C");
    const std::string image = slurp(image_path);
    const std::string tls_ca_pem = slurp(tls_ca);
    const Trust trust = Trust::user(user_ca);

    const Measured plain = measure([&] {
      Measured m;
      // On the heap, before the job: the device's flash and partition table are not the job's RAM.
      auto device = std::make_unique<DeviceFlash>(work + "/ram-flash.bin", AppLevel::kUser);
      auto slots = std::make_unique<AppSlots>(device->slots_over(device->flash()));
      MemoryTransport transport(image);
      HeapDuringRun heap;
      m.status = run_job(*slots, trust, transport, "https://127.0.0.1/user.bin", false, &heap).status;
      m.heap_run = heap.peak;
      m.download_stack = heap.download_stack;
      m.verify_stack = heap.verify_stack;
      return m;
    });
    const Measured tls = measure([&] {
      Measured m;
      // On the heap, before the job: the device's flash and partition table are not the job's RAM.
      auto device = std::make_unique<DeviceFlash>(work + "/ram-flash.bin", AppLevel::kUser);
      auto slots = std::make_unique<AppSlots>(device->slots_over(device->flash()));
      host::CurlTransportOptions options;
      options.ca_pem = tls_ca_pem;
      const long long before = g_heap_now.load();
      g_heap_peak = before;
      host::CurlTransport transport(options);
      m.heap_transport = g_heap_now.load() - before;
      HeapDuringRun heap;
      m.status = run_job(*slots, trust, transport, url, false, &heap).status;
      m.heap_run = heap.peak;
      return m;
    });
    if (!plain.status.is_ok() || !tls.status.is_ok())
      throw std::runtime_error(std::string("OTA job failed: ") + plain.status.reason() + " / " +
                               tls.status.reason());

    const size_t job_ram = kJobBufferBytes + plain.stack;
    const long long tls_heap = tls.heap_transport + tls.heap_run - plain.heap_run;
    // The TLS run's deepest point is verification too (TLS reads are shallower): clamp the noise at 0.
    const long long tls_stack =
        std::max(0LL, static_cast<long long>(tls.stack) - static_cast<long long>(plain.stack));
    std::printf("\nPeak RAM of one OTA job (256 KiB user app; x86-64 host build)\n");
    std::printf(
        "  without TLS: buffer %zu B + stack %zu B (incl. the %zu-byte OtaJob) = %zu B;"
        " heap during the job %lld B (mbedTLS: RSA, X.509)\n",
        kJobBufferBytes, plain.stack, sizeof(OtaJob), job_ram, plain.heap_run);
    std::printf("  stack by phase, without TLS: download %zu B, verification %zu B\n", plain.download_stack,
                plain.verify_stack);
    std::printf(
        "  with CurlTransport over HTTPS: stack %zu B, heap %lld B (transport %lld B + during the job"
        " %lld B)\n",
        tls.stack, tls.heap_transport + tls.heap_run, tls.heap_transport, tls.heap_run);
    std::printf("  TLS (libcurl + OpenSSL) beyond the job: heap %lld B, stack %lld B\n", tls_heap, tls_stack);
    if (!json.empty()) {
      nlohmann::json j = {{"sizeof_job", sizeof(OtaJob)},
                          {"buffer_bytes", kJobBufferBytes},
                          {"stack_bytes", plain.stack},
                          {"stack_download", plain.download_stack},
                          {"stack_verify", plain.verify_stack},
                          {"job_ram_bytes", job_ram},
                          {"heap_peak_no_tls", plain.heap_run},
                          {"stack_with_tls", tls.stack},
                          {"heap_with_tls", tls.heap_transport + tls.heap_run},
                          {"tls_heap_bytes", tls_heap},
                          {"tls_stack_bytes", tls_stack}};
      std::ofstream(json) << j.dump(2) << "\n";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "privota-bench-ram: %s\n", e.what());
    return 1;
  }
  return 0;
}
