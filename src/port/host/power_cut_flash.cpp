#include "privota/host/power_cut_flash.h"

#include <atomic>
#include <vector>

namespace privota::host {

PowerCutFlash::PowerCutFlash(Flash& inner, uint64_t cut_at, uint64_t seed)
    : inner_(inner), cut_at_(cut_at), random_(seed) {}

PowerCutFlash::PowerCutFlash(Flash& inner, uint64_t* shared_writes, uint64_t cut_at, uint64_t seed)
    : inner_(inner), cut_at_(cut_at), count_(shared_writes), random_(seed) {}

bool PowerCutFlash::cut_now() {
  // atomic_ref: the other processes of the device count in the same word.
  const uint64_t n = std::atomic_ref<uint64_t>(*count_).fetch_add(1) + 1;
  return cut_at_ != 0 && n == cut_at_;
}

Status PowerCutFlash::lose_power() {
  lost_ = true;
  if (hook_) hook_();
  return Status::error(Code::kPowerLost, "power was cut during this flash operation");
}

Status PowerCutFlash::read(uint32_t addr, ByteSpan out) {
  if (lost_) return Status::error(Code::kPowerLost, "flash has no power");
  return inner_.read(addr, out);
}

Status PowerCutFlash::program(uint32_t addr, ConstByteSpan data) {
  if (lost_) return Status::error(Code::kPowerLost, "flash has no power");
  // Invalid requests fail before anything happens, exactly as without a cut.
  PRIVOTA_TRY(check_flash_range(size(), addr, static_cast<uint32_t>(data.size())));
  if (!cut_now()) return inner_.program(addr, data);
  program_half(addr, data);
  return lose_power();
}

Status PowerCutFlash::erase(uint32_t addr, uint32_t len) {
  if (lost_) return Status::error(Code::kPowerLost, "flash has no power");
  PRIVOTA_TRY(check_flash_erase(size(), addr, len));
  if (!cut_now()) return inner_.erase(addr, len);
  erase_half(addr, len);
  return lose_power();
}

void PowerCutFlash::program_half(uint32_t addr, ConstByteSpan data) {
  if (data.empty()) return;
  const size_t done = std::uniform_int_distribution<size_t>(0, data.size() - 1)(random_);
  (void)inner_.program(addr, data.first(done));
  // The byte being programmed when the power went: some of the bits it should clear are cleared.
  const uint8_t partial = static_cast<uint8_t>(data[done] | (random_() & 0xFF));
  (void)inner_.program(addr + static_cast<uint32_t>(done), ConstByteSpan(&partial, 1));
}

void PowerCutFlash::erase_half(uint32_t addr, uint32_t len) {
  const uint32_t sectors = len / kSectorSize;
  if (sectors == 0) return;
  const uint32_t done = std::uniform_int_distribution<uint32_t>(0, sectors - 1)(random_);
  if (done > 0) (void)inner_.erase(addr, done * kSectorSize);
  // The interrupted sector: its cells were on their way to 1, each bit anywhere in between.
  const uint32_t sector = addr + done * kSectorSize;
  std::vector<uint8_t> noise(kSectorSize);
  for (auto& b : noise)
    b = static_cast<uint8_t>(random_());
  (void)inner_.erase(sector, kSectorSize);
  (void)inner_.program(sector, ConstByteSpan(noise.data(), noise.size()));
}

}  // namespace privota::host
