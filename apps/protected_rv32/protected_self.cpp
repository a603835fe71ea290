#include "protected_self.h"

#include <string.h>

#include "privota/boot_select.h"
#include "privota/byte_order.h"
#include "privota/ota_data.h"
#include "privota/rv32/app_desc.h"
#include "privota/rv32/console.h"
#include "privota/rv32/memory_map.h"
#include "privota/rv32/owner_request.h"

namespace privota::rv32 {
namespace {

void copy_field(char* out, size_t out_size, const uint8_t* field, size_t field_size) {
  const size_t n = field_size < out_size - 1 ? field_size : out_size - 1;
  memcpy(out, field, n);
  out[n] = '\0';
}

// esp_app_desc_t's fields (docs/formats.md), from the descriptor the image builder filled in this firmware.
AppDescriptor own_descriptor() {
  const uint8_t* d = privota_app_desc;
  AppDescriptor desc;
  desc.secure_version = load_le32(d + 4);
  copy_field(desc.version, sizeof desc.version, d + 16, 32);
  copy_field(desc.project_name, sizeof desc.project_name, d + 48, 32);
  copy_field(desc.time, sizeof desc.time, d + 80, 16);
  copy_field(desc.date, sizeof desc.date, d + 96, 16);
  copy_field(desc.idf_ver, sizeof desc.idf_ver, d + 112, 32);
  memcpy(desc.app_elf_sha256, d + 144, sizeof desc.app_elf_sha256);
  return desc;
}

const char* read_owner_request() {
  const Result<const char*> url =
      decode_owner_request({reinterpret_cast<const uint8_t*>(kOwnerRequestBase), kOwnerRequestBlockSize});
  if (url.is_ok()) return url.value();
  if (url.status().code() != Code::kNotFound)
    console::write_status("protected: owner's request ignored", url.status());
  return nullptr;
}

}  // namespace

void protected_self_init(Flash& flash, const PartitionTable& table, uint32_t own_slot, ProtectedSelf& self) {
  self.slot = own_slot;
  self.desc = own_descriptor();
  self.owner_url = read_owner_request();
  Result<AppSlots> slots = AppSlots::from_table(flash, table, AppLevel::kProtected);
  if (!slots.is_ok()) {
    console::write_status("protected: own slots", slots.status());
    return;
  }
  self.slots = slots.value();
  self.have_slots = true;
  const Result<OtaDataView> view = read_ota_data(self.slots.select);
  self.on_trial = view.is_ok() && view->active_state() == OtaState::kPendingVerify &&
                  view->active_slot(self.slots.slot_count) == static_cast<int>(own_slot);
  if (self.on_trial) {
    console::write("protected: on trial in ota_");
    console::write_dec(own_slot);
    console::write_line(": confirming once the user app has started");
  }
}

void confirm_after_user_start(ProtectedSelf& self) {
  if (self.confirmed) return;
  self.confirmed = true;
  if (!self.on_trial) return;
  const Status marked = mark_app_valid(self.slots, self.slot, self.desc.secure_version);
  if (!marked.is_ok()) {
    console::write_status("protected: could not mark the protected firmware valid", marked);
    return;
  }
  self.on_trial = false;
  console::write("protected: protected firmware ");
  console::write(self.desc.version);
  console::write(" in ota_");
  console::write_dec(self.slot);
  console::write_line(" passed its trial: marked valid");
}

}  // namespace privota::rv32
