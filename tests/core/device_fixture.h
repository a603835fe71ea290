// A whole device's flash in memory with the default partition table, signed images of any version for both
// levels, and the engine calls a device makes. Shared by the update-engine and power-cut tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "image_builder.h"
#include "image_signer.h"
#include "key_file.h"
#include "partition_csv.h"
#include "privota/app_slots.h"
#include "privota/boot_select.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/mbedtls_verifier.h"
#include "privota/host/memory_flash.h"
#include "privota/ota_writer.h"
#include "test_support.h"

namespace privota::test {

constexpr uint32_t kDeviceFlashSize = 4 * 1024 * 1024;

// Keys and trust anchors from tests/data/signature, loaded once per process.
struct Trust {
  tools::Key owner_key = tools::Key::load(test_data("signature/sbv2_rsa3072.pem"));
  tools::Key user_key = tools::Key::load(test_data("signature/user_rsa3072.pem"));
  std::string uac;
  KeyDigest owner_digest;
  host::MbedCertificateVerifier ca;

  Trust() {
    const std::vector<uint8_t> uac_bytes = read_file(test_data("signature/uac.pem"));
    uac.assign(uac_bytes.begin(), uac_bytes.end());
    const auto digest = owner_key.sbv2_key_digest();
    std::memcpy(owner_digest.bytes, digest.data(), 32);
    const std::vector<uint8_t> ca_pem = read_file(test_data("signature/ca_cert.pem"));
    ca =
        std::move(host::MbedCertificateVerifier::from_pem(std::string(ca_pem.begin(), ca_pem.end())).value());
  }
  static Trust& get() {
    static Trust trust;
    return trust;
  }
};

// A signed image for a level; cached by (level, version, secure_version, size), since RSA signing is the
// slow part and power-cut tests rebuild the same device many times.
inline const std::vector<uint8_t>& signed_image(AppLevel level, const std::string& version,
                                                uint32_t secure_version, size_t payload_size = 20000) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  const std::string key = std::to_string(static_cast<int>(level)) + "/" + version + "/" +
                          std::to_string(secure_version) + "/" + std::to_string(payload_size);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  tools::ImageSpec spec;
  spec.payload.resize(payload_size);
  for (size_t i = 0; i < payload_size; ++i)
    spec.payload[i] = static_cast<uint8_t>(i * 31 + version.size() * 7 + version.back());
  spec.version = version;
  spec.secure_version = secure_version;
  spec.project_name = level == AppLevel::kUser ? "user" : "protected";
  spec.time = "00:00:00";
  spec.date = "Nov 24 2026";
  const tools::BuiltImage built = tools::build_app_image(spec);
  EXPECT_EQ(built.error, "");
  Trust& trust = Trust::get();
  std::vector<uint8_t> bytes =
      level == AppLevel::kUser
          ? tools::sign_user_app(built.bytes, trust.user_key, trust.uac)
          : tools::sign_secure_boot_v2(built.bytes, std::span<const tools::Key>(&trust.owner_key, 1));
  return cache.emplace(key, std::move(bytes)).first->second;
}

class Device {
 public:
  Device() : Device(std::make_unique<host::MemoryFlash>(kDeviceFlashSize)) {
    const std::string csv = [] {
      const std::vector<uint8_t> b =
          read_file(std::string(PRIVOTA_SOURCE_DIR) + "/examples/device/partitions.csv");
      return std::string(b.begin(), b.end());
    }();
    const auto parsed = tools::parse_partition_csv(csv);
    const PartitionTable& table = std::get<PartitionTable>(parsed);
    const std::vector<uint8_t> bytes = tools::to_partition_binary(table);
    EXPECT_TRUE(flash_->program(kPartitionTableOffset, {bytes.data(), bytes.size()}).is_ok());
    attach(*flash_);
  }
  // A copy of another device's flash (to replay a flow from the same starting point).
  explicit Device(const std::vector<uint8_t>& cells) : Device(std::make_unique<host::MemoryFlash>(cells)) {
    attach(*flash_);
  }

  // Points the engine at another Flash in front of this one (a power-cut or timing decorator).
  void attach(Flash& flash) {
    host::MbedMd5 md5;
    const Result<PartitionTable> table = PartitionTable::read(flash, md5);
    ASSERT_TRUE(table.is_ok()) << table.status().reason();
    protected_ = AppSlots::from_table(flash, *table, AppLevel::kProtected).value();
    user_ = AppSlots::from_table(flash, *table, AppLevel::kUser).value();
  }

  host::MemoryFlash& flash() { return *flash_; }
  AppSlots& slots(AppLevel level) { return level == AppLevel::kUser ? user_ : protected_; }

  TrustPolicy policy(AppLevel level) {
    Trust& trust = Trust::get();
    TrustPolicy p;
    if (level == AppLevel::kUser) {
      p.scheme = SignatureScheme::kUserAppCertificate;
      p.user_ca = &trust.ca;
    } else {
      p.scheme = SignatureScheme::kSecureBootV2;
      p.trusted_keys = {&trust.owner_digest, 1};
    }
    p.limits.expected_chip = ChipId::kEsp32C3;
    return p;
  }

  // Factory programming: the image into a slot, selected as VALID.
  void install(AppLevel level, uint32_t slot, const std::vector<uint8_t>& image) {
    FlashRegion& region = slots(level).slots[slot];
    ASSERT_TRUE(region.erase(0, region.size()).is_ok());
    ASSERT_TRUE(region.program(0, {image.data(), image.size()}).is_ok());
    ASSERT_TRUE(write_ota_selection(slots(level).select, 2, slot, OtaState::kValid).is_ok());
  }

  // One OTA as the protected app runs it: stream in 1 KiB chunks, verify, switch.
  Status update(AppLevel level, uint32_t running_slot, const std::vector<uint8_t>& image,
                uint32_t announce = 0) {
    OtaWriter writer(slots(level), running_slot);
    PRIVOTA_TRY(writer.begin(announce));
    for (size_t at = 0; at < image.size(); at += 1024) {
      PRIVOTA_TRY(writer.write({image.data() + at, std::min<size_t>(1024, image.size() - at)}));
    }
    TrustPolicy p = policy(level);
    p.min_secure_version = floor(level);
    const Result<SignedImage> verified = writer.finish(p, sha_, verifier_, {scratch_, sizeof scratch_});
    if (!verified.is_ok()) return verified.status();
    return writer.activate();
  }

  BootContext context(AppLevel level) {
    BootContext c;
    c.slots = &slots(level);
    c.policy = policy(level);
    c.sha256 = &sha_;
    c.verifier = &verifier_;
    c.scratch = {scratch_, sizeof scratch_};
    return c;
  }

  Result<BootDecision> boot(AppLevel level) {
    BootContext c = context(level);
    return select_boot_slot(c);
  }

  OtaDataView view(AppLevel level) { return read_ota_data(slots(level).select).value(); }
  uint32_t floor(AppLevel level) { return view(level).secure_version_floor(); }

  // SHA-256 of the signed image in a slot as the engine sees it, or an error.
  Result<SignedImage> verify(AppLevel level, uint32_t slot) {
    TrustPolicy p = policy(level);
    p.limits.max_image_size = slots(level).slots[slot].size();
    return verify_signed_image(slots(level).slots[slot], p, sha_, verifier_, {scratch_, sizeof scratch_});
  }

 private:
  explicit Device(std::unique_ptr<host::MemoryFlash> flash) : flash_(std::move(flash)) {}

  std::unique_ptr<host::MemoryFlash> flash_;
  AppSlots protected_;
  AppSlots user_;
  host::MbedSha256 sha_;
  host::MbedSignatureVerifier verifier_;
  uint8_t scratch_[kSignatureSectorSize];
};

}  // namespace privota::test
