// What one user-app update costs the flash, on the timing model (W25Q32JV typical figures,
// docs/host-flash.md): privota's OtaWriter against the strategy ESP Privilege Separation's esp_user_ota uses
// (erase the whole passive partition first, write in 1 KiB pieces, then rewrite both uotadata sectors), and
// against the lower bound: erasing just the image's own sectors (block erases where possible) and programming
// its pages. Every figure is simulated device time or a count, so the table is the same on every machine.
//
// Usage: privota-bench-flash [--json FILE]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image_builder.h"
#include "image_signer.h"
#include "key_file.h"
#include "partition_csv.h"
#include "privota/app_slots.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/host/timed_flash.h"
#include "privota/ota_data.h"
#include "privota/ota_writer.h"

namespace privota::bench {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Row {
  std::string strategy;
  host::FlashStats stats;
};

// A signed user image whose total (padded image + signature sector) is `signed_size` bytes.
std::vector<uint8_t> user_image(uint32_t signed_size) {
  const tools::Key key = tools::Key::load(PRIVOTA_SOURCE_DIR "/tests/data/signature/user_rsa3072.pem");
  const std::string uac = slurp(PRIVOTA_SOURCE_DIR "/tests/data/signature/uac.pem");
  tools::ImageSpec spec;
  // Header, descriptor segment and hash take 368 bytes; leave room for them within the padded image.
  spec.payload.resize(signed_size - 4096 - 400);
  for (size_t i = 0; i < spec.payload.size(); ++i)
    spec.payload[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
  spec.version = "2.0.0";
  spec.project_name = "bench";
  spec.time = "00:00:00";
  spec.date = "Nov 24 2026";
  return tools::sign_user_app(tools::build_app_image(spec).bytes, key, uac);
}

struct Bench {
  host::MemoryFlash flash{4 * 1024 * 1024};
  AppSlots slots;
  Bench() {
    const auto parsed =
        tools::parse_partition_csv(slurp(PRIVOTA_SOURCE_DIR "/examples/device/partitions.csv"));
    const PartitionTable& table = std::get<PartitionTable>(parsed);
    const std::vector<uint8_t> bytes = tools::to_partition_binary(table);
    (void)flash.program(kPartitionTableOffset, {bytes.data(), bytes.size()});
    slots = AppSlots::from_table(flash, table, AppLevel::kUser).value();
    (void)write_ota_selection(slots.select, 2, 0, OtaState::kValid);
  }
};

// privota: OtaWriter with the size known from Content-Length, 1 KiB network chunks, verify, activate.
host::FlashStats privota_update(const std::vector<uint8_t>& image) {
  Bench b;
  host::TimedFlash timed(b.flash);
  AppSlots slots = b.slots;
  slots.select = FlashRegion(timed, b.slots.select.offset(), b.slots.select.size());
  for (uint32_t i = 0; i < slots.slot_count; ++i) {
    slots.slots[i] = FlashRegion(timed, b.slots.slots[i].offset(), b.slots.slots[i].size());
  }
  const std::string ca_pem = slurp(PRIVOTA_SOURCE_DIR "/tests/data/signature/ca_cert.pem");
  host::MbedCertificateVerifier ca = std::move(host::MbedCertificateVerifier::from_pem(ca_pem).value());
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  static uint8_t scratch[kSignatureSectorSize];
  TrustPolicy policy;
  policy.scheme = SignatureScheme::kUserAppCertificate;
  policy.user_ca = &ca;
  OtaWriter writer(slots, 0);
  bool ok = writer.begin(static_cast<uint32_t>(image.size())).is_ok();
  for (size_t at = 0; ok && at < image.size(); at += 1024) {
    ok = writer.write({image.data() + at, std::min<size_t>(1024, image.size() - at)}).is_ok();
  }
  ok = ok && writer.finish(policy, sha, verifier, {scratch, sizeof scratch}).is_ok() &&
       writer.activate().is_ok();
  if (!ok) throw std::runtime_error("privota update failed in the benchmark");
  return timed.stats();
}

// ESP-PrivSep's esp_user_ota: esp_partition_erase_range(whole partition), esp_partition_write of 1 KiB
// buffers, esp_image_verify (one read of the image), then both uotadata sectors erased and rewritten.
host::FlashStats esp_privsep_update(const std::vector<uint8_t>& image) {
  Bench b;
  host::TimedFlash timed(b.flash);
  FlashRegion slot(timed, b.slots.slots[1].offset(), b.slots.slots[1].size());
  FlashRegion select(timed, b.slots.select.offset(), b.slots.select.size());
  (void)slot.erase(0, slot.size());
  for (size_t at = 0; at < image.size(); at += 1024) {
    (void)slot.program(static_cast<uint32_t>(at),
                       {image.data() + at, std::min<size_t>(1024, image.size() - at)});
  }
  std::vector<uint8_t> readback(image.size());
  (void)slot.read(0, {readback.data(), readback.size()});
  const uint8_t record[16] = {0x5e, 0x5c, 0xe5, 0xbd};
  for (uint32_t sector = 0; sector < 2; ++sector) {
    (void)select.erase(sector * Flash::kSectorSize, Flash::kSectorSize);
    (void)select.program(sector * Flash::kSectorSize, record);
  }
  return timed.stats();
}

// The floor: erase exactly the image's sectors (block commands for whole aligned blocks) and program each
// page that holds data once; no reads, no selection write.
host::FlashStats lower_bound(const std::vector<uint8_t>& image) {
  host::MemoryFlash flash(4 * 1024 * 1024);
  host::TimedFlash timed(flash);
  const uint32_t base = 0x360000;  // user_1
  (void)timed.erase(base, static_cast<uint32_t>((image.size() + 4095) / 4096 * 4096));
  for (size_t at = 0; at < image.size(); at += 256) {
    const size_t n = std::min<size_t>(256, image.size() - at);
    bool blank = true;
    for (size_t i = 0; i < n; ++i)
      blank = blank && image[at + i] == 0xFF;
    if (!blank) (void)timed.program(base + static_cast<uint32_t>(at), {image.data() + at, n});
  }
  return timed.stats();
}

nlohmann::json to_json(const Row& r, size_t image_size, double floor_us) {
  return {
      {"strategy", r.strategy},
      {"bytes_erased", r.stats.bytes_erased},
      {"erase_per_image_byte", static_cast<double>(r.stats.bytes_erased) / static_cast<double>(image_size)},
      {"block_erases", r.stats.block_erases},
      {"sector_erases", r.stats.sector_erases},
      {"pages_programmed", r.stats.pages_programmed},
      {"device_ms", r.stats.device_us / 1000},
      {"vs_lower_bound", r.stats.device_us / floor_us}};
}

}  // namespace
}  // namespace privota::bench

int main(int argc, char** argv) {
  using namespace privota::bench;
  nlohmann::json results = nlohmann::json::array();
  for (const uint32_t signed_size : {256u * 1024, 128u * 1024}) {
    const std::vector<uint8_t> image = user_image(signed_size);
    const std::vector<Row> rows = {{"lower bound", lower_bound(image)},
                                   {"privota OtaWriter", privota_update(image)},
                                   {"ESP-PrivSep esp_user_ota", esp_privsep_update(image)}};
    const double floor_us = rows[0].stats.device_us;
    std::printf("\nUser-app update, %u KiB signed image into a 256 KiB slot (simulated W25Q32JV)\n",
                signed_size / 1024);
    std::printf("%-26s %10s %8s %7s %8s %7s %11s %9s\n", "strategy", "erased", "erase/img", "blocks",
                "sectors", "pages", "device ms", "x floor");
    for (const Row& r : rows) {
      std::printf("%-26s %10llu %8.3f %7llu %8llu %7llu %11.1f %9.3f\n", r.strategy.c_str(),
                  static_cast<unsigned long long>(r.stats.bytes_erased),
                  static_cast<double>(r.stats.bytes_erased) / static_cast<double>(image.size()),
                  static_cast<unsigned long long>(r.stats.block_erases),
                  static_cast<unsigned long long>(r.stats.sector_erases),
                  static_cast<unsigned long long>(r.stats.pages_programmed), r.stats.device_us / 1000,
                  r.stats.device_us / floor_us);
      nlohmann::json j = to_json(r, image.size(), floor_us);
      j["image_bytes"] = image.size();
      results.push_back(j);
    }
    std::printf(
        "privota vs ESP-PrivSep: %.2fx less device time, %.2fx less erase\n",
        rows[2].stats.device_us / rows[1].stats.device_us,
        static_cast<double>(rows[2].stats.bytes_erased) / static_cast<double>(rows[1].stats.bytes_erased));
  }
  if (argc == 3 && std::string(argv[1]) == "--json") std::ofstream(argv[2]) << results.dump(2) << "\n";
  return 0;
}
