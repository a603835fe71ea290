// Writes the seed corpora of the fuzz targets into DIR/<target>/: the test vectors, plus otadata and
// system-call frames made with the core's own encoders. Run once after changing a format; the output is
// committed under fuzz/corpus. Usage: fuzz_make_seeds DIR
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "privota/byte_order.h"
#include "privota/crc32.h"
#include "privota/host/memory_flash.h"
#include "privota/legacy_uotadata.h"
#include "privota/ota_data.h"
#include "privota/syscall.h"

using namespace privota;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

fs::path g_out;
bool g_failed = false;

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_seed(const char* target, const std::string& name, const Bytes& bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void check(const Status& status, const char* what) {
  if (status.is_ok()) return;
  fprintf(stderr, "make_seeds: %s: %s\n", what, status.reason());
  g_failed = true;
}

void partition_seeds(const fs::path& data) {
  for (const auto& entry : fs::directory_iterator(data / "partition")) {
    if (entry.path().extension() == ".bin")
      write_seed("fuzz_partition_table", entry.path().filename().string(), read_file(entry.path()));
  }
}

// Control bytes of fuzz_app_image: flags, max size u24, eight chunk sizes.
void app_image_seeds(const fs::path& data) {
  const Bytes images[] = {read_file(data / "image" / "hello_esp32c3.bin"),
                          read_file(data / "image" / "payload.bin")};
  const char* names[] = {"hello_esp32c3", "payload"};
  const uint8_t controls[][12] = {
      {0x03, 0, 0, 0, 1, 7, 24, 255, 0, 31, 8, 100},            // require hash, ESP32-C3, odd chunks
      {0x00, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255},  // no checks, large chunks
      {0x01, 0x00, 0x04, 0, 3, 3, 3, 3, 3, 3, 3, 3},            // 1 KiB limit, 3-byte chunks
  };
  for (size_t i = 0; i < 2; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      Bytes seed(controls[c], controls[c] + 12);
      seed.insert(seed.end(), images[i].begin(), images[i].end());
      write_seed("fuzz_app_image", std::string(names[i]) + "_" + std::to_string(c) + ".bin", seed);
    }
  }
}

void signature_seeds(const fs::path& data) {
  for (const char* name :
       {"hello.sbv2_rsa.bin", "hello.sbv2_ecdsa.bin", "hello.sbv2_two_keys.bin", "hello.user_signed.bin"}) {
    const Bytes signed_image = read_file(data / "signature" / name);
    if (signed_image.size() < 8192) {
      fprintf(stderr, "make_seeds: %s is shorter than 8 KiB\n", name);
      g_failed = true;
      continue;
    }
    write_seed("fuzz_signature_blocks", name,
               Bytes(signed_image.begin() + 4096, signed_image.begin() + 8192));
  }
}

// Control bytes of fuzz_ota_data: slot count, slot, state, floor u32; then the partition.
void ota_data_seed(const std::string& name, host::MemoryFlash& flash, uint8_t slot_count, uint8_t slot,
                   uint8_t state) {
  Bytes seed = {slot_count, slot, state, 3, 0, 0, 0};
  // Trailing 0xFF is what the target pads with: leave it out to keep the seed small.
  Bytes cells = flash.cells();
  while (!cells.empty() && cells.back() == 0xFF && cells.size() > 4096 + 64)
    cells.pop_back();
  seed.insert(seed.end(), cells.begin(), cells.end());
  write_seed("fuzz_ota_data", name, seed);
}

void legacy_record(host::MemoryFlash& flash, uint32_t sector, uint8_t boot, uint8_t try_partition) {
  uint8_t record[16] = {};
  store_le32(record, kLegacyUotadataMagic);
  record[4] = 1;
  record[5] = boot;
  record[6] = try_partition;
  store_le32(record + 12, crc32_le(0, ConstByteSpan(record, 12)));
  check(flash.program(sector * Flash::kSectorSize, ConstByteSpan(record, sizeof record)), "legacy record");
}

void ota_data_seeds() {
  host::MemoryFlash blank(8192);
  ota_data_seed("blank.bin", blank, 2, 0, 2);

  host::MemoryFlash one(8192);
  check(write_ota_selection(one, 2, 0, OtaState::kValid), "select slot 0");
  ota_data_seed("one_entry.bin", one, 2, 1, 1);

  host::MemoryFlash two(8192);
  check(write_ota_selection(two, 2, 0, OtaState::kValid, 1), "select slot 0");
  check(write_ota_selection(two, 2, 1, OtaState::kPendingVerify, 2), "select slot 1");
  ota_data_seed("two_entries_pending.bin", two, 2, 1, 2);

  host::MemoryFlash many(8192);
  for (uint32_t i = 0; i < 5; ++i)
    check(write_ota_selection(many, 16, (i * 7) % 16, OtaState::kNew, i), "select in 16 slots");
  ota_data_seed("sixteen_slots.bin", many, 16, 3, 0);

  host::MemoryFlash legacy(8192);
  legacy_record(legacy, 0, 0x41, 0xFF);
  legacy_record(legacy, 1, 0x41, 0xFF);
  ota_data_seed("legacy_user_1.bin", legacy, 2, 0, 1);

  host::MemoryFlash legacy_trial(8192);
  legacy_record(legacy_trial, 0, 0x40, 0x41);
  legacy_record(legacy_trial, 1, 0x40, 0xFF);
  ota_data_seed("legacy_trial.bin", legacy_trial, 2, 1, 1);
}

void frame_seed(const std::string& name, const syscall::Frame& frame) {
  Bytes bytes(syscall::kFrameSize);
  check(syscall::encode(frame, ByteSpan(bytes.data(), bytes.size())), "encode frame");
  check(syscall::decode(ConstByteSpan(bytes.data(), bytes.size()), frame.response).status(), name.c_str());
  write_seed("fuzz_syscall_frame", name, bytes);
}

void syscall_seeds() {
  syscall::Frame f;
  f.call = syscall::Call::kOtaStart;
  f.id = 1;
  check(f.set_string("https://updates.example.com/user/hello-1.1.bin"), "url");
  frame_seed("ota_start.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kOtaStart;
  f.response = true;
  f.id = 1;
  f.values[0] = 7;
  frame_seed("ota_start_response.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kOtaStatus;
  f.response = true;
  f.status = Code::kBadSignature;
  f.id = 2;
  f.values[0] = 3;
  f.values[1] = 4096;
  f.values[2] = 262144;
  f.values[3] = static_cast<uint32_t>(Code::kBadSignature);
  frame_seed("ota_status_response.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kLog;
  f.id = 3;
  f.values[0] = 2;
  check(f.set_string("hello from the user app"), "log text");
  frame_seed("log.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kAppInfo;
  f.id = 4;
  f.values[0] = syscall::kRunningSlot;
  frame_seed("app_info.bin", f);

  f.response = true;
  f.values[0] = 1;
  f.values[1] = 3;
  f.values[2] = 2;
  f.values[3] = 1;
  check(f.set_string("1.1.0"), "version");
  frame_seed("app_info_response.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kOtaMarkValid;
  f.id = 5;
  frame_seed("ota_mark_valid.bin", f);

  f = syscall::Frame();
  f.call = syscall::Call::kRestart;
  f.id = 6;
  frame_seed("restart.bin", f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  const fs::path data = PRIVOTA_TEST_DATA;
  partition_seeds(data);
  app_image_seeds(data);
  signature_seeds(data);
  ota_data_seeds();
  syscall_seeds();
  return g_failed ? 1 : 0;
}
