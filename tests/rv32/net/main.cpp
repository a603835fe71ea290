// net_fetch: runs on the rv32 machine in place of the bootloader and fetches one URL with the device's
// network stack (virtio-net, lwIP, mbedTLS TLS 1.2, HttpsTransport), then powers off. The test
// (tests/rv32/net_transport_test.cpp) compares what it prints with the file nginx served.
//
// Its arguments are a NUL-terminated text block that QEMU's loader places at kArgs before reset:
//   url URL                   what to fetch (required)
//   host NAME A.B.C.D         the host table (repeatable): the device has no DNS
//   range N / if-range TEXT   resume from byte N, while the validator TEXT still matches
//   connect-timeout MS / stall-timeout MS
//   ca                        the rest of the block is the CA's PEM
// Output: "net_fetch: open: ok", head lines, then "net_fetch: body N bytes sha256 HEX" or the error; QEMU
// exits 0 when the fetch succeeded, 1 when open() or read() failed, 2 on bad arguments or no network.
#include <string.h>

#include "privota/rv32/console.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/net/https_transport.h"
#include "privota/rv32/net/network.h"

extern "C" uint32_t __stack_bottom, __stack_top;  // sections.ld

namespace privota::rv32 {
namespace {

constexpr uintptr_t kArgs = 0x80800000;
constexpr size_t kMaxHosts = 4;

struct Arguments {
  const char* url = nullptr;
  size_t url_length = 0;
  char* ca = nullptr;
  net::HostAddress hosts[kMaxHosts];
  char host_names[kMaxHosts][net::HttpsTransport::kMaxHostLength + 1];
  size_t host_count = 0;
  uint32_t range = 0;
  const char* if_range = nullptr;
  size_t if_range_length = 0;
  uint32_t connect_timeout_ms = 5000;
  uint32_t stall_timeout_ms = 5000;
};

[[noreturn]] void fail(const char* what) {
  console::write("net_fetch: bad arguments: ");
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
      if (name_length > net::HttpsTransport::kMaxHostLength) fail("a host name is too long");
      char* name = args.host_names[args.host_count];
      memcpy(name, value, name_length);
      name[name_length] = '\0';
      args.hosts[args.host_count] = {name, parse_address(space + 1, n - name_length - 1)};
      ++args.host_count;
    } else if (starts(text, length, "range", value, n)) {
      args.range = parse_number(value, n);
    } else if (starts(text, length, "if-range", value, n)) {
      args.if_range = value;
      args.if_range_length = n;
    } else if (starts(text, length, "connect-timeout", value, n)) {
      args.connect_timeout_ms = parse_number(value, n);
    } else if (starts(text, length, "stall-timeout", value, n)) {
      args.stall_timeout_ms = parse_number(value, n);
    } else if (length > 0) {
      fail("unknown line (url, host, range, if-range, connect-timeout, stall-timeout, ca)");
    }
    text = *end == '\0' ? end : end + 1;
  }
  if (args.url == nullptr) fail("no url line");
  return args;
}

void write_field(const char* name, const char* value) {
  if (value[0] == '\0') return;
  console::write("net_fetch: ");
  console::write(name);
  console::write(" ");
  console::write_line(value);
}

void write_head(const HttpResponse& head) {
  console::write("net_fetch: status ");
  console::write_dec(head.status);
  console::put('\n');
  if (head.has_content_length) {
    console::write("net_fetch: content-length ");
    console::write_dec(head.content_length);
    console::put('\n');
  }
  if (head.has_content_range) {
    console::write("net_fetch: content-range ");
    console::write_dec(head.range_first);
    console::put('-');
    console::write_dec(head.range_last);
    console::put('/');
    console::write_dec(head.range_total);
    console::put('\n');
  }
  write_field("etag", head.etag);
  write_field("last-modified", head.last_modified);
  write_field("location", head.location);
  if (head.location_too_long) console::write_line("net_fetch: location-too-long");
}

void write_sha256(const uint8_t (&digest)[32]) {
  constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t byte : digest) {
    console::put(kHex[byte >> 4]);
    console::put(kHex[byte & 0xF]);
  }
}

alignas(8) uint8_t crypto_heap[96 * 1024];

// RAM measurements, printed at the end: the stack is painted below the current frame at start and the
// deepest overwritten word found at the end; mbedTLS's first-fit heap writes a block header after every
// block it hands out, so its highest non-zero byte is how far the heap ever reached.
constexpr uint32_t kPaint = 0xA5A5A5A5u;

void paint_stack() {
  uint32_t here = 0;
  for (uint32_t* p = &__stack_bottom; p + 64 < &here; ++p)
    *p = kPaint;
}

uint32_t stack_peak() {
  const uint32_t* p = &__stack_bottom;
  while (p < &__stack_top && *p == kPaint)
    ++p;
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&__stack_top) - reinterpret_cast<uintptr_t>(p));
}

uint32_t heap_peak() {
  size_t n = sizeof crypto_heap;
  while (n > 0 && crypto_heap[n - 1] == 0)
    --n;
  return static_cast<uint32_t>(n);
}
alignas(4) uint8_t chunk[1024];

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  privota::rv32::console::write("net_fetch: trap: ");
  privota::rv32::console::write_line(privota::rv32::cause_name(frame->mcause));
  privota::rv32::power_off(3);
}

int main() {
  using namespace privota;
  using namespace privota::rv32;
  paint_stack();
  console::init();
  init_crypto_heap(crypto_heap, sizeof crypto_heap);
  const Arguments args = parse_arguments(reinterpret_cast<char*>(kArgs));

  const Status up =
      net::network_init({net::ipv4(10, 0, 2, 15), net::ipv4(255, 255, 255, 0), net::ipv4(10, 0, 2, 2)});
  if (!up.is_ok()) {
    console::write_status("net_fetch: network", up);
    power_off(2);
  }
  console::write_line("net_fetch: network up");

  net::HttpsTransportOptions options;
  options.ca_pem = args.ca;
  options.hosts = args.hosts;
  options.host_count = args.host_count;
  options.connect_timeout_ms = args.connect_timeout_ms;
  options.stall_timeout_ms = args.stall_timeout_ms;
  static net::HttpsTransport transport(options);

  HttpRequest request;
  request.url = {args.url, args.url_length};
  request.range_start = args.range;
  if (args.if_range != nullptr) request.if_range = {args.if_range, args.if_range_length};
  static HttpResponse head;
  const uint32_t started = net::now_ms();
  const Status opened = transport.open(request, head);
  if (!opened.is_ok()) {
    console::write_status("net_fetch: open", opened);
    power_off(1);
  }
  console::write_line("net_fetch: open: ok");
  write_head(head);

  MbedSha256 sha;
  sha.begin();
  uint32_t total = 0;
  for (;;) {
    const Result<size_t> got = transport.read({chunk, sizeof chunk});
    if (!got.is_ok()) {
      console::write("net_fetch: body ");
      console::write_dec(total);
      console::write_line(" bytes before the error");
      console::write_status("net_fetch: read", got.status());
      power_off(1);
    }
    if (*got == 0) break;
    sha.update({chunk, *got});
    total += static_cast<uint32_t>(*got);
  }
  uint8_t digest[32];
  sha.finish(digest);
  transport.close();
  console::write("net_fetch: body ");
  console::write_dec(total);
  console::write(" bytes sha256 ");
  write_sha256(digest);
  console::put('\n');
  console::write("net_fetch: took ");
  console::write_dec(net::now_ms() - started);
  console::write_line(" ms");
  console::write("net_fetch: ram: stack peak ");
  console::write_dec(stack_peak());
  console::write(" bytes, TLS heap peak ");
  console::write_dec(heap_peak());
  console::write(" bytes, transport object ");
  console::write_dec(sizeof(net::HttpsTransport));
  console::write_line(" bytes");
  power_off(0);
}
