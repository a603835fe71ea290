#include "bootloader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "privota/boot_select.h"
#include "privota/host/app_payload.h"
#include "privota/host/device_protocol.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "privota/host/power_cut_flash.h"
#include "privota/host/selection_record.h"
#include "privota/host/slot_verdicts.h"
#include "privota/host/slot_verifier.h"
#include "privota/host/unique_fd.h"
#include "privota/partition_table.h"

namespace privota::sim {
namespace {

// The configuration as a sealed memfd: the protected app reads it, nobody can change it under it.
int config_memfd(const std::string& json) {
  const int fd = memfd_create("privota-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (write(fd, json.data(), json.size()) != static_cast<ssize_t>(json.size()) ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void Bootloader::say(const std::string& level, const std::string& event, const std::string& message,
                     nlohmann::json fields) {
  say_from(log_, "bootloader", level, event, message, std::move(fields));
}

// Per slot, what it holds and why it was refused, then the verdict: "no bootable app" is never said alone.
void Bootloader::say_why_nothing_boots(AppSlots& slots, const TrustPolicy& policy, const Status& status) {
  const host::NoBootRecord record = host::no_boot_record(AppLevel::kProtected, slots, policy, status);
  for (const host::NoBootRecord::Line& slot : record.slots)
    say("error", "slot_refused", slot.message, slot.fields);
  say("error", "no_bootable_app", record.message, record.fields);
}

BootResult Bootloader::boot(const host::DeviceConfig& config) {
  BootResult result;
  Result<host::FileFlash> file = host::FileFlash::open(flash_);
  if (!file.is_ok()) {
    say("error", "flash_error",
        "cannot open the flash file " + flash_.string() + ": " + file.status().reason());
    return result;
  }
  bool cut = false;
  host::PowerCutFlash flash(file.value(), &power_.state()->writes, power_.state()->cut_at,
                            power_.state()->cut_at);
  flash.on_power_cut([&cut] { cut = true; });

  host::MbedMd5 md5;
  const Result<PartitionTable> table = PartitionTable::read(flash, md5);
  // A flash without a usable table is not a device's flash (a wrong file, or never made by `privota flash
  // new`): a bad flash file, not a device whose apps failed.
  if (!table.is_ok()) {
    say("error", "bad_flash",
        flash_.string() + " holds no valid partition table at 0x8000 (" + table.status().reason() +
            "): make the flash with `privota flash new --table partitions.csv`",
        {{"error", code_name(table.status().code())}});
    result.kind = BootResult::Kind::kBadFlash;
    return result;
  }
  Result<AppSlots> slots = AppSlots::from_table(flash, table.value(), AppLevel::kProtected);
  if (!slots.is_ok()) {
    say("error", "bad_flash",
        flash_.string() + ": the partition table has no protected app slots (otadata, ota_0, ota_1): " +
            slots.status().reason(),
        {{"error", code_name(slots.status().code())}});
    result.kind = BootResult::Kind::kBadFlash;
    return result;
  }
  TrustPolicy policy;
  policy.scheme = config.secure_boot.enabled ? SignatureScheme::kSecureBootV2 : SignatureScheme::kNone;
  policy.trusted_keys = {config.secure_boot.key_digests.data(), config.secure_boot.key_digests.size()};
  policy.limits.expected_chip = config.chip;
  host::SlotVerifier verifier;
  const Result<BootDecision> decision = verifier.select(slots.value(), policy);
  if (cut) {
    say("error", "power_cut", "power cut during a bootloader flash write");
    result.kind = BootResult::Kind::kPowerCut;
    return result;
  }
  if (!decision.is_ok()) {
    say_why_nothing_boots(slots.value(), policy, decision.status());
    result.kind = BootResult::Kind::kNoBootableApp;
    return result;
  }
  const BootDecision& d = decision.value();
  const AppDescriptor& desc = d.image.info.desc;
  host::SelectionRecord record = host::selection_record(AppLevel::kProtected, d);
  record.message += config.secure_boot.enabled ? " (Secure Boot v2 verified)" : " (secure boot off)";
  say("info", "boot", record.message, record.fields);

  Result<std::vector<uint8_t>> payload = host::read_app_payload(slots->slots[d.slot], d.image.info);
  if (!payload.is_ok()) {
    say("error", "no_bootable_app",
        std::string("protected image has no payload: ") + payload.status().reason());
    result.kind = BootResult::Kind::kNoBootableApp;
    return result;
  }
  host::UniqueFd flash_fd(::open(flash_.c_str(), O_RDWR | O_CLOEXEC));
  host::UniqueFd config_fd(config_memfd(config.to_json()));
  int log_pipe[2];
  if (flash_fd.get() < 0 || config_fd.get() < 0 || pipe2(log_pipe, O_CLOEXEC) != 0) {
    say("error", "handover_failed", "cannot prepare the protected app's fds");
    return result;
  }
  host::UniqueFd log_read(log_pipe[0]);
  host::UniqueFd log_write(log_pipe[1]);
  host::LaunchOptions options;
  options.argv = {"protected",
                  "--boot-slot",
                  std::to_string(d.slot),
                  "--secure-version",
                  std::to_string(desc.secure_version),
                  "--version",
                  desc.version};
  options.fds = {{flash_fd.get(), host::kProtectedFlashFd},
                 {config_fd.get(), host::kProtectedConfigFd},
                 {log_write.get(), host::kProtectedLogFd},
                 {power_.fd(), host::kProtectedPowerFd}};
  Result<host::Child> child = host::launch_from_memory(payload.value(), options);
  if (!child.is_ok()) {
    say("error", "handover_failed",
        std::string("the protected app did not start: ") + child.status().reason(),
        {{"errno", child.status().detail()}});
    return result;
  }
  result.kind = BootResult::Kind::kStarted;
  result.protected_app = std::move(child.value());
  result.log_fd = log_read.release();
  return result;
}

}  // namespace privota::sim
