// ota_job: runs on the rv32 machine in place of the bootloader, with the device's flash file (virtio-blk),
// its eFuse block and the network, and runs one OTA job of the user level in the background: OtaService
// starts it (or resumes it from the journal) on Rv32JobRunner, and a main loop keeps going round while the
// job downloads, verifies and selects the image. The test (tests/rv32/ota_job_test.cpp) then reads the
// flash file.
//
// Its arguments are a NUL-terminated text block that QEMU's loader places at kArgs before reset:
//   url URL              the job's URL; without one the job resumes from the user level's journal
//   host NAME A.B.C.D    the host table (repeatable): the device has no DNS
//   allow-host NAME      the URL policy's host (repeatable) / allow-port N: its port
//   stop-at N            power off (a power cut: nothing closed) once N bytes of the image are in flash
//   cancel-at N          the user app cancels its job once N bytes are in flash
//   suspend-at N         the device is about to reboot once N bytes are in flash: the job stops, its
//                        journal stays live for the next boot
//   ca                   the rest of the block is the TLS CA's PEM
// The eFuse block (privota/rv32/efuse_block.h: the user-app CA, the chip) is at kEfuse.
// Output: "ota_job: ..." lines; exit code 0 when the job selected the image, 1 when it failed or was
// cancelled, 2 on bad arguments or no device, 5 when the service refused the job, 6 at a stop-at power cut.
#include <string.h>

#include "privota/app_slots.h"
#include "privota/ota_service.h"
#include "privota/partition_table.h"
#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/net/https_transport.h"
#include "privota/rv32/net/network.h"
#include "privota/rv32/net/tls_connection.h"
#include "privota/rv32/ota/job_runner.h"
#include "privota/rv32/virtio_flash.h"
#include "privota/signed_image.h"

namespace privota::rv32 {
namespace {

constexpr uintptr_t kArgs = 0x80800000;
constexpr uintptr_t kEfuse = 0x80A00000;
constexpr size_t kMaxHosts = 4;

struct Arguments {
  const char* url = nullptr;
  size_t url_length = 0;
  char* ca = nullptr;
  net::HostAddress hosts[kMaxHosts];
  char host_names[kMaxHosts][net::HttpsTransport::kMaxHostLength + 1];
  size_t host_count = 0;
  const char* allowed[kMaxHosts];
  char allowed_names[kMaxHosts][net::HttpsTransport::kMaxHostLength + 1];
  size_t allowed_count = 0;
  uint16_t port = 0;
  uint32_t stop_at = 0;
  uint32_t cancel_at = 0;
  uint32_t suspend_at = 0;
};

[[noreturn]] void fail(const char* what) {
  console::write("ota_job: bad arguments: ");
  console::write_line(what);
  power_off(2);
}

uint32_t parse_number(const char* text, size_t length) {
  uint32_t value = 0;
  if (length == 0 || length > 9) fail("a number is empty or too long");
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') fail("a number has a non-digit");
    value = value * 10 + static_cast<uint32_t>(text[i] - '0');
  }
  return value;
}

uint32_t parse_address(const char* text, size_t length) {
  uint32_t address = 0;
  const char* end = text + length;
  for (int part = 0; part < 4; ++part) {
    const char* dot = text;
    while (dot < end && *dot != '.')
      ++dot;
    const uint32_t byte = parse_number(text, static_cast<size_t>(dot - text));
    if (byte > 255) fail("an address byte is above 255");
    address = (address << 8) | byte;
    text = dot + 1;
  }
  return address;
}

bool starts(const char* line, size_t length, const char* key, const char*& value, size_t& value_length) {
  const size_t n = strlen(key);
  if (length < n || strncmp(line, key, n) != 0 || (length > n && line[n] != ' ')) return false;
  value = length > n ? line + n + 1 : line + n;
  value_length = length > n ? length - n - 1 : 0;
  return true;
}

const char* copy_name(char (&to)[net::HttpsTransport::kMaxHostLength + 1], const char* from, size_t n) {
  if (n > net::HttpsTransport::kMaxHostLength) fail("a host name is too long");
  memcpy(to, from, n);
  to[n] = '\0';
  return to;
}

Arguments parse_arguments(char* text) {
  Arguments args;
  while (*text != '\0') {
    char* end = strchr(text, '\n');
    if (end == nullptr) end = text + strlen(text);
    const size_t length = static_cast<size_t>(end - text);
    const char* value = nullptr;
    size_t n = 0;
    if (length == 2 && strncmp(text, "ca", 2) == 0) {
      args.ca = end + (*end == '\n' ? 1 : 0);
      break;
    }
    if (starts(text, length, "url", value, n)) {
      args.url = value;
      args.url_length = n;
    } else if (starts(text, length, "host", value, n)) {
      const char* space = static_cast<const char*>(memchr(value, ' ', n));
      if (space == nullptr || args.host_count == kMaxHosts) fail("host NAME A.B.C.D, at most 4");
      const size_t name_length = static_cast<size_t>(space - value);
      const char* name = copy_name(args.host_names[args.host_count], value, name_length);
      args.hosts[args.host_count] = {name, parse_address(space + 1, n - name_length - 1)};
      ++args.host_count;
    } else if (starts(text, length, "allow-host", value, n)) {
      if (args.allowed_count == kMaxHosts) fail("at most 4 allow-host lines");
      args.allowed[args.allowed_count] = copy_name(args.allowed_names[args.allowed_count], value, n);
      ++args.allowed_count;
    } else if (starts(text, length, "allow-port", value, n)) {
      args.port = static_cast<uint16_t>(parse_number(value, n));
    } else if (starts(text, length, "stop-at", value, n)) {
      args.stop_at = parse_number(value, n);
    } else if (starts(text, length, "cancel-at", value, n)) {
      args.cancel_at = parse_number(value, n);
    } else if (starts(text, length, "suspend-at", value, n)) {
      args.suspend_at = parse_number(value, n);
    } else if (length > 0) {
      fail("unknown line (url, host, allow-host, allow-port, stop-at, cancel-at, suspend-at, ca)");
    }
    text = *end == '\0' ? end : end + 1;
  }
  return args;
}

[[noreturn]] void give_up(const char* what, const Status& status, uint32_t code) {
  console::write_status(what, status);
  power_off(code);
}

alignas(8) uint8_t crypto_heap[96 * 1024];
alignas(16) uint8_t job_stack[32 * 1024];
alignas(8) uint8_t scratch[kSignatureSectorSize];

// mbedTLS's first-fit heap writes a block header after every block it hands out, so its highest non-zero
// byte is how far the heap ever reached.
uint32_t heap_peak() {
  size_t n = sizeof crypto_heap;
  while (n > 0 && crypto_heap[n - 1] == 0)
    --n;
  return static_cast<uint32_t>(n);
}

uint32_t instret() {
  uint32_t value = 0;
  asm volatile("csrr %0, minstret" : "=r"(value));
  return value;
}

// The device's flash as the job gets it, counting the instructions spent in the driver: it polls the
// virtio block device until each request completes, so under -icount those are QEMU's I/O time, not work.
class CountingFlash final : public Flash {
 public:
  explicit CountingFlash(Flash& flash) : flash_(flash) {}
  uint32_t size() const override { return flash_.size(); }
  Status read(uint32_t addr, ByteSpan out) override {
    bytes_read += out.size();
    return timed([&] { return flash_.read(addr, out); });
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    // Pages touched, as a NOR chip programs them (256 B each).
    if (!data.empty()) pages_programmed += (addr + data.size() - 1) / 256 - addr / 256 + 1;
    return timed([&] { return flash_.program(addr, data); });
  }
  Status erase(uint32_t addr, uint32_t len) override {
    // As ESP-IDF's esp_flash_erase_region splits a range: 64 KiB blocks where whole and aligned, 4 KiB
    // sectors for the rest (the host's TimedFlash counts the same way).
    for (uint32_t at = addr; at < addr + len;) {
      const bool block = at % 0x10000 == 0 && addr + len - at >= 0x10000;
      (block ? block_erases : sector_erases) += 1;
      at += block ? 0x10000 : 0x1000;
    }
    return timed([&] { return flash_.erase(addr, len); });
  }
  uint64_t instructions = 0;
  // What the job did to the flash, for the device time on a real chip's timing model (the test computes it).
  uint32_t bytes_read = 0;
  uint32_t pages_programmed = 0;
  uint32_t sector_erases = 0;
  uint32_t block_erases = 0;

 private:
  template <typename F>
  Status timed(F operation) {
    const uint32_t before = instret();
    const Status status = operation();
    instructions += instret() - before;
    return status;
  }
  Flash& flash_;
};

void write_number(const char* label, uint32_t value) {
  console::write(label);
  console::write_dec(value);
}

void write_progress(const char* what, const JobProgress& p) {
  console::write("ota_job: ");
  console::write(what);
  console::write(" ");
  console::write(job_state_name(p.state));
  write_number(" done ", p.bytes_done);
  write_number(" total ", p.bytes_total);
  write_number(" received ", p.bytes_received);
  write_number(" attempts ", p.attempts);
  write_number(" resumed_from ", p.resumed_from);
  console::put('\n');
}

struct Loop {
  uint32_t iterations = 0;
  uint32_t longest_gap_ms = 0;
  uint32_t heap_peak = 0;           // the mbedTLS heap's reach, sampled
  uint32_t stack_by_state[8] = {};  // the job's stack peak in each state (repainted at every change)
  JobState stack_state = JobState::kQueued;
  JobState longest_gap_state = JobState::kQueued;  // what the job was doing in that longest turn
  uint64_t job_instructions = 0;  // minstret inside the job's turns (exact under QEMU -icount)
  uint64_t by_state[8] = {};      // the same, by the job's state when its turn began
  uint32_t gap_by_state[8] = {};  // the longest gap by the job's state when its turn began
  uint32_t ms_by_state[8] = {};   // and the time spent in that state
  uint32_t turns[8] = {};         // turns by state, and the cheapest: a turn that found nothing to do
  uint32_t cheapest[8] = {};
};

void write_loop(const Loop& loop, uint32_t took_ms) {
  write_number("ota_job: main loop rounds ", loop.iterations);
  write_number(" longest_gap_ms ", loop.longest_gap_ms);
  console::write(" in ");
  console::write(job_state_name(loop.longest_gap_state));
  write_number(" took_ms ", took_ms);
  console::put('\n');
  console::write("ota_job: longest gap ms by state");
  for (uint8_t s = 0; s < 8; ++s) {
    if (loop.turns[s] == 0) continue;
    console::write(" ");
    console::write(job_state_name(static_cast<JobState>(s)));
    write_number(" ", loop.gap_by_state[s]);
  }
  console::put('\n');
  console::write("ota_job: ms by state");
  for (uint8_t s = 0; s < 8; ++s) {
    if (loop.turns[s] == 0) continue;
    console::write(" ");
    console::write(job_state_name(static_cast<JobState>(s)));
    write_number(" ", loop.ms_by_state[s]);
  }
  console::put('\n');
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  privota::rv32::console::write("ota_job: trap: ");
  privota::rv32::console::write_line(privota::rv32::cause_name(frame->mcause));
  privota::rv32::power_off(3);
}

int main() {
  using namespace privota;
  using namespace privota::rv32;
  console::init();
  init_crypto_heap(crypto_heap, sizeof crypto_heap);
  const Arguments args = parse_arguments(reinterpret_cast<char*>(kArgs));

  const Result<EfuseBlock> efuse =
      decode_efuse_block({reinterpret_cast<const uint8_t*>(kEfuse), kEfuseBlockSize});
  if (!efuse.is_ok()) give_up("ota_job: eFuse block", efuse.status(), 2);
  static MbedCertificateVerifier user_ca;
  const Status ca = user_ca.load_ca(efuse->ca_pem);
  if (!ca.is_ok()) give_up("ota_job: user-app CA", ca, 2);
  const uint32_t ca_heap = heap_peak();  // the firmware's: the CA stays parsed for ever
  const Result<VirtioBlock*> device = VirtioBlock::find();
  if (!device.is_ok()) give_up("ota_job: flash", device.status(), 2);
  static VirtioFlash flash(*device.value());
  MbedMd5 md5;
  static Result<PartitionTable> table = PartitionTable::read(flash, md5);
  if (!table.is_ok()) give_up("ota_job: partition table", table.status(), 2);
  static Result<AppSlots> slots = AppSlots::from_table(flash, table.value(), AppLevel::kUser);
  if (!slots.is_ok()) give_up("ota_job: user app slots", slots.status(), 2);

  TrustPolicy policy;
  policy.scheme = SignatureScheme::kUserAppCertificate;
  policy.user_ca = &user_ca;
  policy.limits.expected_chip = static_cast<ChipId>(efuse->chip_id);
  // The running user app: user_0 (the factory image), whose version an update must exceed.
  static MbedSha256 sha;
  static MbedSignatureVerifier verifier;
  const Result<SignedImage> running = verify_signed_image(slots->slots[0], policy, sha, verifier, scratch);
  if (!running.is_ok()) give_up("ota_job: the running app in user_0", running.status(), 2);
  // What verifying a user-app image costs the heap (X.509 + RSA-3072), before any TLS.
  const uint32_t verify_heap = heap_peak();

  const Status up =
      net::network_init({net::ipv4(10, 0, 2, 15), net::ipv4(255, 255, 255, 0), net::ipv4(10, 0, 2, 2)});
  if (!up.is_ok()) give_up("ota_job: network", up, 2);

  net::HttpsTransportOptions options;
  options.ca_pem = args.ca;
  options.hosts = args.hosts;
  options.host_count = args.host_count;
  static net::HttpsTransport transport(options);
  const uint16_t ports[1] = {args.port};
  UrlPolicy url_policy;
  url_policy.allowed_hosts = {args.allowed, args.allowed_count};
  url_policy.allowed_ports = {ports, args.port == 0 ? 0u : 1u};

  ota::JobPlatform platform;
  static CountingFlash counted(flash);
  platform.flash = &counted;
  platform.table = &table.value();
  platform.user_policy = policy;
  platform.url_policy = &url_policy;
  platform.transport = &transport;
  platform.config.first_backoff_ms = 100;
  platform.check_scratch = scratch;
  static ota::Rv32JobRunner runner(platform, job_stack);
  static OtaService service(runner, url_policy);

  const Result<uint32_t> id =
      args.url != nullptr
          ? service.start(AppLevel::kUser, {args.url, args.url_length}, 0, &running->info.desc)
          : service.resume(slots.value(), AppLevel::kUser, 0, &running->info.desc);
  if (!id.is_ok()) give_up("ota_job: start", id.status(), 5);
  console::write(args.url != nullptr ? "ota_job: started job " : "ota_job: resumed job ");
  console::write_dec(id.value());
  console::put('\n');

  // The main loop: one round serves the rest of the firmware (here: a counter, the stop and cancel
  // points), then gives the job its turn.
  Loop loop;
  bool cancelled = false;
  bool suspended = false;
  const uint32_t started = net::now_ms();
  uint32_t last = started;
  while (runner.running()) {
    const JobState state = runner.progress().state;
    const uint32_t before = instret();
    runner.step();
    const uint32_t spent = instret() - before;
    loop.job_instructions += spent;
    const uint8_t index = static_cast<uint8_t>(state) & 7;
    loop.by_state[index] += spent;
    if (loop.turns[index]++ == 0 || spent < loop.cheapest[index]) loop.cheapest[index] = spent;
    ++loop.iterations;
    const uint32_t now = net::now_ms();
    const Result<JobView> view = service.status(AppLevel::kUser, id.value());
    const uint8_t turn_state = static_cast<uint8_t>(state) & 7;
    if (now - last > loop.gap_by_state[turn_state]) loop.gap_by_state[turn_state] = now - last;
    loop.ms_by_state[turn_state] += now - last;
    if (now - last > loop.longest_gap_ms) {
      loop.longest_gap_ms = now - last;
      loop.longest_gap_state = view.is_ok() ? view->progress.state : JobState::kQueued;
    }
    last = now;
    // The heap's reach now and then (the scan costs): freeing the top block zeroes its header, so the
    // peak is sampled while the job runs rather than read once at the end.
    if (loop.iterations % 32 == 0) {
      const uint32_t reach = heap_peak();
      if (reach > loop.heap_peak) loop.heap_peak = reach;
    }
    if (!view.is_ok()) continue;
    // The job's stack peak by state (TLS handshake, download, verification): painted afresh at each change.
    if (view->progress.state != loop.stack_state) {
      uint32_t& peak = loop.stack_by_state[static_cast<uint8_t>(loop.stack_state) & 7];
      if (runner.stack_peak() > peak) peak = runner.stack_peak();
      loop.stack_state = view->progress.state;
      runner.repaint_stack();
    }
    const uint32_t done = view->progress.bytes_done;
    if (args.stop_at != 0 && done >= args.stop_at) {
      write_progress("power cut at", view->progress);
      write_loop(loop, now - started);
      power_off(6);
    }
    if (args.cancel_at != 0 && !cancelled && done >= args.cancel_at) {
      console::write_status("ota_job: cancel", service.cancel(AppLevel::kUser, id.value()));
      cancelled = true;
    }
    if (args.suspend_at != 0 && !suspended && done >= args.suspend_at) {
      console::write_line("ota_job: suspending (the device reboots)");
      service.suspend();
      suspended = true;
    }
  }
  const uint32_t took = net::now_ms() - started;
  ota::JobEnd end;
  if (!runner.take_end(end)) give_up("ota_job: the job ended without a result", Status::ok(), 2);
  const SupervisorEventKind kind = service.on_job_finished(end.outcome, end.last);
  write_progress("end", end.last);
  console::write_status("ota_job: outcome", end.outcome);
  console::write_line(kind == SupervisorEventKind::kJobActivated ? "ota_job: activated"
                                                                 : "ota_job: not activated");
  write_loop(loop, took);
  write_number("ota_job: ram: job object ", sizeof(OtaJob));
  write_number(" B, runner ", sizeof(ota::Rv32JobRunner));
  write_number(" B, job stack ", sizeof job_stack);
  write_number(" B, heap user-app CA ", ca_heap);
  write_number(" B, heap peak without TLS ", verify_heap);
  write_number(" B, heap peak with TLS ", loop.heap_peak > heap_peak() ? loop.heap_peak : heap_peak());
  write_number(" B, transport ", sizeof(net::HttpsTransport));
  console::write_line(" B");
  write_number("ota_job: tls: handshake steps ", net::handshake_crypto_steps());
  console::write_line("");
  write_number("ota_job: signature checks on the main loop ", runner.checks_on_main_loop());
  console::write_line("");
  {
    uint32_t& peak = loop.stack_by_state[static_cast<uint8_t>(loop.stack_state) & 7];
    if (runner.stack_peak() > peak) peak = runner.stack_peak();
  }
  console::write("ota_job: job stack peak by state");
  for (uint8_t s = 0; s < 8; ++s) {
    if (loop.stack_by_state[s] == 0) continue;
    console::write(" ");
    console::write(job_state_name(static_cast<JobState>(s)));
    write_number(" ", loop.stack_by_state[s]);
  }
  console::put('\n');
  const uint32_t kib = end.last.bytes_received / 1024;
  write_number("ota_job: instructions in the job thousands ",
               static_cast<uint32_t>(loop.job_instructions / 1000));
  write_number(" per_kib_received ", kib == 0 ? 0 : static_cast<uint32_t>(loop.job_instructions / kib));
  console::put('\n');
  // Connecting is TCP + the TLS handshake; downloading the body, its decryption and the flash writes;
  // verifying the core's check of the whole slot (hash + signature) and the selection.
  console::write("ota_job: instructions by state thousands");
  for (uint8_t s = 0; s < 8; ++s) {
    if (loop.by_state[s] == 0) continue;
    console::write(" ");
    console::write(job_state_name(static_cast<JobState>(s)));
    write_number(" ", static_cast<uint32_t>(loop.by_state[s] / 1000));
  }
  console::put('\n');
  write_number("ota_job: instructions in the flash driver thousands ",
               static_cast<uint32_t>(counted.instructions / 1000));
  console::put('\n');
  write_number("ota_job: flash ops bytes_read ", counted.bytes_read);
  write_number(" pages_programmed ", counted.pages_programmed);
  write_number(" sector_erases ", counted.sector_erases);
  write_number(" block_erases ", counted.block_erases);
  console::put('\n');
  // Waiting costs a turn too (a poll that found nothing, two switches), as many as the network is slow:
  // what the turns did beyond the cheapest one is the work.
  console::write("ota_job: work by state thousands");
  for (uint8_t s = 0; s < 8; ++s) {
    if (loop.by_state[s] == 0) continue;
    console::write(" ");
    console::write(job_state_name(static_cast<JobState>(s)));
    write_number(
        " ", static_cast<uint32_t>((loop.by_state[s] - uint64_t{loop.turns[s]} * loop.cheapest[s]) / 1000));
    write_number(" turns ", loop.turns[s]);
    write_number(" idle_turn ", loop.cheapest[s]);
  }
  console::put('\n');
  power_off(kind == SupervisorEventKind::kJobActivated ? 0 : 1);
}
