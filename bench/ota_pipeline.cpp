// The host OTA pipeline against its floor, and what a power cut mid-download costs in bytes, both against
// real nginx on loopback over HTTPS.
//
// Pipeline: OtaJob with CurlTransport into a FileFlash (a temp 4 MiB device flash file, the default partition
// table), verified and activated. Floor: libcurl's easy interface fetching the same URL from the same server
// (a new connection each time, as the job makes), discarding the body and taking its SHA-256 (mbedTLS) as it
// arrives: what any download that checks its bytes must do. Both best of --reps, interleaved, so that a
// slow moment of the machine hits both.
//
// Power cut: the job on a PowerCutFlash cut at several writes spread over one job; then, as after a reboot,
// read_live_journal + OtaJob::resume_from_journal + run with a new CurlTransport. Bytes received twice = what
// both jobs received together (JobProgress::bytes_received) minus the image size.
//
// Usage: privota-bench-ota --tls-ca CA.pem --work DIR --reps N [--json FILE]
//          --user URL CA_CERT.pem [--protected URL KEY_DIGEST_HEX] [--cuts N]
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <mbedtls/sha256.h>
#include <nlohmann/json.hpp>

#include "ota_rig.h"
#include "privota/host/curl_transport.h"
#include "privota/host/power_cut_flash.h"
#include "privota/ota_journal.h"

namespace privota::bench {
namespace {

struct Case {
  std::string name;
  std::string url;
  Trust trust;
};

struct Args {
  std::string tls_ca;
  std::string work;
  int reps = 10;
  int cuts = 8;
  std::string json;
  std::vector<Case> cases;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--tls-ca") {
      a.tls_ca = next();
    } else if (arg == "--work") {
      a.work = next();
    } else if (arg == "--reps") {
      a.reps = std::stoi(next());
    } else if (arg == "--cuts") {
      a.cuts = std::stoi(next());
    } else if (arg == "--json") {
      a.json = next();
    } else if (arg == "--user") {
      const std::string url = next();
      a.cases.push_back({"user app (user-cert)", url, Trust::user(next())});
    } else if (arg == "--protected") {
      const std::string url = next();
      a.cases.push_back({"protected app (SBv2)", url, Trust::protected_app(next())});
    } else {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
  if (a.tls_ca.empty() || a.work.empty() || a.cases.empty() || a.reps < 1)
    throw std::runtime_error(
        "usage: privota-bench-ota --tls-ca CA --work DIR --reps N --user URL CA_CERT ...");
  return a;
}

host::CurlTransportOptions transport_options(const std::string& tls_ca_pem) {
  host::CurlTransportOptions o;
  o.ca_pem = tls_ca_pem;
  return o;
}

// --- the floor --------------------------------------------------------------------------------------------

struct FloorRun {
  mbedtls_sha256_context sha;
  size_t bytes = 0;
};

size_t floor_body(char* data, size_t size, size_t count, void* self) {
  FloorRun& run = *static_cast<FloorRun*>(self);
  mbedtls_sha256_update_ret(&run.sha, reinterpret_cast<const unsigned char*>(data), size * count);
  run.bytes += size * count;
  return size * count;
}

// Seconds for one download of `url` to nowhere with its SHA-256, or a throw.
double floor_once(const std::string& url, const std::string& tls_ca_path, size_t expect) {
  FloorRun run;
  mbedtls_sha256_init(&run.sha);
  const auto t0 = std::chrono::steady_clock::now();
  mbedtls_sha256_starts_ret(&run.sha, 0);
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CAINFO, tls_ca_path.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, floor_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &run);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  const CURLcode rc = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  unsigned char digest[32];
  mbedtls_sha256_finish_ret(&run.sha, digest);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  mbedtls_sha256_free(&run.sha);
  if (rc != CURLE_OK || run.bytes != expect)
    throw std::runtime_error(std::string("floor download failed: ") + curl_easy_strerror(rc));
  return seconds;
}

// --- the pipeline -----------------------------------------------------------------------------------------

JobOutcome pipeline_once(const Args& a, const Case& c, const std::string& tls_ca_pem, bool in_memory) {
  DeviceFlash device(in_memory ? std::string() : a.work + "/pipeline-flash.bin", c.trust.level);
  AppSlots slots = device.slots_over(device.flash());
  host::CurlTransport transport(transport_options(tls_ca_pem));
  const JobOutcome out = run_job(slots, c.trust, transport, c.url, false);
  if (!out.status.is_ok() || out.progress.state != JobState::kRebooting)
    throw std::runtime_error(std::string("OTA job failed: ") + out.status.reason());
  return out;
}

nlohmann::json pipeline(const Args& a, const Case& c, const std::string& tls_ca_pem) {
  // Warm: page cache, nginx's open file.
  const size_t bytes = pipeline_once(a, c, tls_ca_pem, false).progress.bytes_total;
  double best_floor = 1e9;
  JobOutcome best, best_memory;
  best.seconds = best_memory.seconds = 1e9;
  for (int i = 0; i < a.reps; ++i) {
    best_floor = std::min(best_floor, floor_once(c.url, a.tls_ca, bytes));
    const JobOutcome job = pipeline_once(a, c, tls_ca_pem, false);
    if (job.seconds < best.seconds) best = job;
    const JobOutcome memory = pipeline_once(a, c, tls_ca_pem, true);
    if (memory.seconds < best_memory.seconds) best_memory = memory;
  }
  const double best_job = best.seconds;
  const double memory_mbs = static_cast<double>(bytes) / best_memory.seconds / 1e6;
  const double floor_mbs = static_cast<double>(bytes) / best_floor / 1e6;
  const double job_mbs = static_cast<double>(bytes) / best_job / 1e6;
  std::printf("%-22s %9zu B  floor %7.2f ms %7.1f MB/s  pipeline %7.2f ms %7.1f MB/s  %5.2fx floor\n",
              c.name.c_str(), bytes, best_floor * 1e3, floor_mbs, best_job * 1e3, job_mbs,
              job_mbs / floor_mbs);
  std::printf("%-22s   of which: download into flash %.2f ms, verification %.2f ms, activation %.2f ms\n", "",
              best.download_seconds * 1e3, best.verify_seconds * 1e3,
              (best.seconds - best.download_seconds - best.verify_seconds) * 1e3);
  std::printf(
      "%-22s   same job on MemoryFlash (no flash-file system calls): %.2f ms %.1f MB/s  %.2fx floor\n", "",
      best_memory.seconds * 1e3, memory_mbs, memory_mbs / floor_mbs);
  return {{"case", c.name},
          {"image_bytes", bytes},
          {"reps", a.reps},
          {"floor_ms", best_floor * 1e3},
          {"floor_mb_s", floor_mbs},
          {"pipeline_ms", best_job * 1e3},
          {"pipeline_mb_s", job_mbs},
          {"vs_floor", job_mbs / floor_mbs},
          {"pipeline_download_ms", best.download_seconds * 1e3},
          {"pipeline_verify_ms", best.verify_seconds * 1e3},
          {"memory_flash_ms", best_memory.seconds * 1e3},
          {"memory_flash_mb_s", memory_mbs},
          {"memory_flash_vs_floor", memory_mbs / floor_mbs}};
}

// --- power cuts -------------------------------------------------------------------------------------------

// Flash writes of one whole job (the cut points to choose from).
uint64_t count_writes(const Args& a, const Case& c, const std::string& tls_ca_pem) {
  DeviceFlash device(a.work + "/cut-flash.bin", c.trust.level);
  host::PowerCutFlash counter(device.flash(), 0);
  AppSlots slots = device.slots_over(counter);
  host::CurlTransport transport(transport_options(tls_ca_pem));
  const JobOutcome out = run_job(slots, c.trust, transport, c.url, false);
  if (!out.status.is_ok()) throw std::runtime_error(std::string("OTA job failed: ") + out.status.reason());
  return counter.writes();
}

nlohmann::json power_cuts(const Args& a, const Case& c, const std::string& tls_ca_pem) {
  const uint64_t writes = count_writes(a, c, tls_ca_pem);
  nlohmann::json rows = nlohmann::json::array();
  uint32_t worst = 0;
  int resumed = 0;
  std::printf("\nPower cut mid-download (%s, %llu flash writes in one job), then resume from the journal\n",
              c.name.c_str(), static_cast<unsigned long long>(writes));
  std::printf("%8s %12s %12s %12s %12s\n", "cut at", "committed", "before cut", "after boot", "twice");
  for (int i = 1; i <= a.cuts; ++i) {
    // Spread over the download: the first few writes open the journal, the last few activate.
    const uint64_t k = writes * static_cast<uint64_t>(i) / static_cast<uint64_t>(a.cuts + 1);
    DeviceFlash device(a.work + "/cut-flash.bin", c.trust.level);
    JobOutcome cut_job;
    {
      host::PowerCutFlash cut(device.flash(), k, k * 7919);
      AppSlots slots = device.slots_over(cut);
      host::CurlTransport transport(transport_options(tls_ca_pem));
      cut_job = run_job(slots, c.trust, transport, c.url, false);
    }
    if (cut_job.status.code() != Code::kPowerLost) throw std::runtime_error("the power cut did not happen");
    device.reopen();  // reboot
    AppSlots slots = device.slots_over(device.flash());
    const Result<JournalRecord> record = read_live_journal(slots);
    if (!record.is_ok()) {
      std::printf("%8llu  no live journal (cut before it was written or while activating)\n",
                  static_cast<unsigned long long>(k));
      continue;
    }
    host::CurlTransport transport(transport_options(tls_ca_pem));
    const JobOutcome resume = run_job(slots, c.trust, transport, c.url, true);
    if (!resume.status.is_ok() || resume.progress.state != JobState::kRebooting)
      throw std::runtime_error(std::string("resumed job failed: ") + resume.status.reason());
    const uint32_t size = resume.progress.bytes_total;
    const uint32_t total = cut_job.progress.bytes_received + resume.progress.bytes_received;
    const uint32_t twice = total > size ? total - size : 0;
    worst = std::max(worst, twice);
    ++resumed;
    std::printf("%8llu %12u %12u %12u %12u\n", static_cast<unsigned long long>(k),
                record->committed_sectors * 4096, cut_job.progress.bytes_received,
                resume.progress.bytes_received, twice);
    rows.push_back({{"cut_at_write", k},
                    {"committed_bytes", record->committed_sectors * 4096},
                    {"received_before_cut", cut_job.progress.bytes_received},
                    {"received_after_reboot", resume.progress.bytes_received},
                    {"received_twice", twice}});
  }
  std::printf("most bytes received twice: %u (over %d resumed cuts)\n", worst, resumed);
  return {{"case", c.name},
          {"writes_per_job", writes},
          {"cuts", rows},
          {"resumed", resumed},
          {"max_received_twice", worst}};
}

}  // namespace
}  // namespace privota::bench

int main(int argc, char** argv) {
  using namespace privota::bench;
  try {
    const Args a = parse(argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const std::string tls_ca_pem = slurp(a.tls_ca);
    nlohmann::json results;
    std::printf("\nHTTPS download -> verified, activated update (nginx on loopback, best of %d)\n", a.reps);
    for (const Case& c : a.cases)
      results["pipeline"].push_back(pipeline(a, c, tls_ca_pem));
    results["power_cut"] = power_cuts(a, a.cases.front(), tls_ca_pem);
    if (!a.json.empty()) std::ofstream(a.json) << results.dump(2) << "\n";
    curl_global_cleanup();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "privota-bench-ota: %s\n", e.what());
    return 1;
  }
  return 0;
}
