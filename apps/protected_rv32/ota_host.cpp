#include "ota_host.h"

#include <string.h>

#include "privota/rv32/console.h"
#include "privota/rv32/net/https_transport.h"
#include "privota/rv32/net/network.h"
#include "privota/rv32/ota/job_runner.h"

namespace privota::rv32 {
namespace {

constexpr size_t kMaxHosts = 8;
// QEMU's user network: the guest's address and gateway; the host's servers are reached only through the
// guestfwd rule of kServerAddress (privota-sim --net-forward), so every allowed host resolves to it (the
// device has no DNS).
constexpr uint32_t kServerAddress = net::ipv4(10, 0, 2, 100);

// Without a network every job is refused: the SyscallService answers the user app with the reason.
class NoNetworkJobs final : public JobRunner {
 public:
  explicit NoNetworkJobs(const char* why) : why_(why) {}
  Status start(const JobRequest&) override { return Status::error(Code::kUnsupported, why_); }
  void stop(bool) override {}
  JobProgress progress() override { return {}; }

 private:
  const char* why_;
};

// The job's own stack: the job and the TLS handshake run on it; the signature check runs on the main loop's
// (Rv32JobRunner). Sized from its measured high-water mark (the job's end reports it): 7,920 B for a TLS
// download of either level, 5.0 KB for a job refused at the image head; 10 KiB keeps over a quarter as
// margin.
alignas(16) uint8_t job_stack[10 * 1024];

const char* host_names[kMaxHosts];
net::HostAddress hosts[kMaxHosts];
UrlPolicy url_policy;
ota::Rv32JobRunner* runner = nullptr;
OtaService* service = nullptr;

size_t split_names(ConstByteSpan names) {
  size_t count = 0;
  for (size_t at = 0; at < names.size() && count < kMaxHosts; ++count) {
    host_names[count] = reinterpret_cast<const char*>(names.data() + at);
    hosts[count] = {host_names[count], kServerAddress};
    while (names[at] != 0)
      ++at;
    ++at;
  }
  return count;
}

OtaService& refuse_jobs(const char* why) {
  console::write("protected: OTA jobs refused: ");
  console::write_line(why);
  static NoNetworkJobs jobs(why);
  static OtaService refusing(jobs, url_policy);
  service = &refusing;
  return refusing;
}

void report_resumed(const Result<uint32_t>& resumed, const char* level) {
  if (resumed.is_ok()) {
    console::write("protected: resumed OTA job ");
    console::write_dec(resumed.value());
    console::write(" (");
    console::write(level);
    console::write_line(") from its journal");
  } else if (resumed.status().code() != Code::kNotFound) {
    console::write_status("protected: the interrupted OTA job cannot continue", resumed.status());
  }
}

// A job a power cut or a reboot interrupted goes on from its journal's last committed sector: the
// protected firmware's own first (the owner's request is not repeated: the journal holds its URL), then
// the user app's.
void resume_interrupted(OtaService& ota, const OtaHostConfig& config) {
  Result<uint32_t> resumed = Status::error(Code::kNotFound, "no journal");
  ProtectedSelf* self = config.self;
  if (self != nullptr && self->have_slots) {
    resumed = ota.resume(self->slots, AppLevel::kProtected, self->slot, &self->desc);
    report_resumed(resumed, "protected firmware");
  }
  if (resumed.is_ok() || resumed.status().code() != Code::kNotFound || config.slots == nullptr) return;
  report_resumed(ota.resume(*config.slots, AppLevel::kUser, config.running_slot, config.running), "user app");
}

// The owner's request: the protected firmware updates itself (Secure Boot v2, otadata) from the URL, which
// the same URL policy judges; only a newer image than this firmware is taken.
void start_owner_request(OtaService& ota, ProtectedSelf& self) {
  console::write("protected: the owner asks for a protected-firmware update from ");
  console::write_line(self.owner_url);
  if (ota.running()) {
    console::write_line("protected: protected-firmware update not started: an interrupted job is continuing");
    return;
  }
  const Result<uint32_t> started =
      ota.start(AppLevel::kProtected, {self.owner_url, strlen(self.owner_url)}, self.slot, &self.desc);
  if (!started.is_ok()) {
    console::write_status("protected: protected-firmware update refused", started.status());
    return;
  }
  console::write("protected: protected-firmware OTA job ");
  console::write_dec(started.value());
  console::write_line(" started");
}

// The service: over the network when the eFuse block has one and the machine a NIC, else one that refuses
// every job with the reason.
OtaService& open_service(const OtaHostConfig& config) {
  const EfuseBlock& efuse = *config.efuse;
  if (!efuse.has_network()) return refuse_jobs("the device configuration has no network (ota.tls_ca)");
  const Status up =
      net::network_init({net::ipv4(10, 0, 2, 15), net::ipv4(255, 255, 255, 0), net::ipv4(10, 0, 2, 2)});
  if (!up.is_ok()) {
    console::write_status("protected: network", up);
    return refuse_jobs("the device has no network (no NIC or RNG)");
  }
  const size_t host_count = split_names(efuse.allowed_hosts);
  url_policy.allowed_hosts = {host_names, host_count};
  url_policy.allowed_ports = {efuse.allowed_ports, efuse.port_count};

  net::HttpsTransportOptions options;
  options.ca_pem = reinterpret_cast<const char*>(efuse.tls_ca_pem.data());
  options.hosts = hosts;
  options.host_count = host_count;
  static net::HttpsTransport transport(options);

  ota::JobPlatform platform;
  platform.flash = config.flash;
  platform.table = config.table;
  platform.user_policy.scheme = SignatureScheme::kUserAppCertificate;
  platform.user_policy.user_ca = config.user_ca;
  platform.user_policy.limits.expected_chip = static_cast<ChipId>(efuse.chip_id);
  platform.protected_policy.scheme = SignatureScheme::kSecureBootV2;
  platform.protected_policy.trusted_keys = efuse.trusted_keys();
  platform.protected_policy.limits.expected_chip = static_cast<ChipId>(efuse.chip_id);
  platform.url_policy = &url_policy;
  platform.transport = &transport;
  platform.config.first_backoff_ms = 100;
  platform.check_scratch = config.scratch;
  static ota::Rv32JobRunner job_runner(platform, job_stack);
  static OtaService ota(job_runner, url_policy);
  runner = &job_runner;
  service = &ota;
  console::write("protected: network up (10.0.2.15), OTA service ready, ");
  console::write_dec(static_cast<uint32_t>(host_count));
  console::write_line(" allowed hosts");
  return ota;
}

}  // namespace

OtaService& ota_host_init(const OtaHostConfig& config) {
  OtaService& ota = open_service(config);
  resume_interrupted(ota, config);
  if (config.self != nullptr && config.self->owner_url != nullptr) start_owner_request(ota, *config.self);
  return ota;
}

bool ota_host_step(SupervisorEventKind& finished) {
  if (runner == nullptr) return false;
  if (runner->running()) runner->step();
  ota::JobEnd end;
  if (!runner->take_end(end)) return false;
  finished = service->on_job_finished(end.outcome, end.last);
  // "<level>-level OTA job ended: <state>, ...: <outcome>", which privota-sim turns into its ota_* events.
  console::write("protected: ");
  console::write(app_level_name(service->job().level));
  console::write("-level OTA job ended: ");
  console::write(job_state_name(end.last.state));
  console::write(", ");
  console::write_dec(end.last.bytes_received);
  console::write(" bytes received, resumed from ");
  console::write_dec(end.last.resumed_from);
  console::write(", stack peak ");
  console::write_dec(runner->stack_peak());
  console::write(" of ");
  console::write_dec(static_cast<uint32_t>(sizeof job_stack));
  console::write(" B");
  console::write_status("", end.outcome);
  if (finished == SupervisorEventKind::kJobActivated) {
    // The level, for whoever follows the console (privota-sim's ota_done event and its exit code 5).
    console::write("protected: OTA job activated the new image (");
    console::write(app_level_name(service->job().level));
    console::write_line(" level)");
  }
  return true;
}

}  // namespace privota::rv32
