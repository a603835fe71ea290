// verify_floor: runs on the rv32 machine in place of the bootloader, on the device's flash, and measures the
// floor of "reset -> user app" (scripts/bench-rv32): the instructions of the core's verify_signed_image()
// of the protected app in ota_0 (Secure Boot v2) and of the user app in user_0 (user-app certificate), the
// same images, code and crypto the real boot chain verifies, and of those the ones spent polling the flash.
// Prints "verify_floor: protected N (wait W)", "verify_floor: user N (wait W)" and
// "verify_floor: ca N" (loading the user-app CA, which the protected firmware does once per boot).
#include "privota/app_slots.h"
#include "privota/partition_table.h"
#include "privota/rv32/console.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/machine.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/virtio_flash.h"
#include "privota/signed_image.h"

namespace privota::rv32 {
namespace {

alignas(8) uint8_t crypto_heap[32 * 1024];
alignas(8) uint8_t scratch[kSignatureSectorSize];

uint32_t retired() {
  uint32_t count = 0;
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstret\n.option pop" : "=r"(count));
  return count;
}

[[noreturn]] void give_up(const char* what, const Status& status) {
  console::write_status(what, status);
  power_off(2);
}

// Verifies slot 0 of `level` under `policy`, printing the instructions it took.
void measure(const char* name, Flash& flash, const PartitionTable& table, AppLevel level,
             TrustPolicy policy) {
  Result<AppSlots> slots = AppSlots::from_table(flash, table, level);
  if (!slots.is_ok()) give_up("verify_floor: slots", slots.status());
  policy.limits.max_image_size = slots->slots[0].size();
  MbedSha256 sha;
  MbedSignatureVerifier verifier;
  const uint32_t wait_before = VirtioBlock::wait_instructions();
  const uint32_t before = retired();
  const Result<SignedImage> image = verify_signed_image(slots->slots[0], policy, sha, verifier, scratch);
  const uint32_t spent = retired() - before;
  if (!image.is_ok()) give_up("verify_floor: verify", image.status());
  console::write("verify_floor: ");
  console::write(name);
  console::write(" ");
  console::write_dec(spent);
  console::write(" (wait ");
  console::write_dec(VirtioBlock::wait_instructions() - wait_before);
  console::write_line(")");
}

}  // namespace
}  // namespace privota::rv32

extern "C" privota::rv32::TrapFrame* privota_rv32_trap(privota::rv32::TrapFrame* frame) {
  privota::rv32::console::write("verify_floor: trap: ");
  privota::rv32::console::write_line(privota::rv32::cause_name(frame->mcause));
  privota::rv32::power_off(3);
}

int main() {
  using namespace privota;
  using namespace privota::rv32;
  console::init();
  init_crypto_heap(crypto_heap, sizeof crypto_heap);
  static Result<EfuseBlock> efuse =
      decode_efuse_block({reinterpret_cast<const uint8_t*>(kEfuseBase), kEfuseBlockSize});
  if (!efuse.is_ok()) give_up("verify_floor: eFuse block", efuse.status());
  const Result<VirtioBlock*> device = VirtioBlock::find();
  if (!device.is_ok()) give_up("verify_floor: flash", device.status());
  static VirtioFlash flash(*device.value());
  MbedMd5 md5;
  static Result<PartitionTable> table = PartitionTable::read(flash, md5);
  if (!table.is_ok()) give_up("verify_floor: partition table", table.status());

  TrustPolicy secure_boot;
  secure_boot.scheme = SignatureScheme::kSecureBootV2;
  secure_boot.trusted_keys = efuse->trusted_keys();
  secure_boot.limits.expected_chip = static_cast<ChipId>(efuse->chip_id);
  measure("protected", flash, table.value(), AppLevel::kProtected, secure_boot);

  static MbedCertificateVerifier user_ca;
  const uint32_t before = retired();
  const Status ca = user_ca.load_ca(efuse->ca_pem);
  const uint32_t ca_spent = retired() - before;
  if (!ca.is_ok()) give_up("verify_floor: user-app CA", ca);
  console::write("verify_floor: ca ");
  console::write_dec(ca_spent);
  console::write_line("");
  TrustPolicy certificate;
  certificate.scheme = SignatureScheme::kUserAppCertificate;
  certificate.user_ca = &user_ca;
  certificate.limits.expected_chip = static_cast<ChipId>(efuse->chip_id);
  measure("user", flash, table.value(), AppLevel::kUser, certificate);
  power_off(0);
}
