// ProtectedSelf: what the rv32 protected firmware knows of itself for its own update, as the host's
// protected app does (apps/protected): its slots (otadata + ota_N), the slot it booted from, its descriptor,
// whether it runs on trial (otadata PENDING_VERIFY: a new image the bootloader boots on trial), and the
// device owner's request to update it on this power-on (privota/rv32/owner_request.h). A new image proves
// itself by getting as far as starting the user app, then confirms itself (confirm_after_user_start); one
// that never gets there is rolled back by the bootloader once its trial boots are used up (boot_select.h).
#pragma once

#include <stdint.h>

#include "privota/app_image.h"
#include "privota/app_slots.h"
#include "privota/partition_table.h"

namespace privota::rv32 {

struct ProtectedSelf {
  AppSlots slots;
  bool have_slots = false;
  uint32_t slot = 0;
  AppDescriptor desc;
  bool on_trial = false;
  bool confirmed = false;
  const char* owner_url = nullptr;  // this power-on's owner's request (nullptr: none)
};

// Reads the level's slots and otadata, this firmware's own descriptor (as loaded: the image the bootloader
// verified) and the owner's request block.
void protected_self_init(Flash& flash, const PartitionTable& table, uint32_t own_slot, ProtectedSelf& self);

// The user app started: a firmware on trial has shown it can read the flash, verify and start it, and
// marks itself valid (which raises otadata's anti-rollback floor to its secure_version). Once per boot.
void confirm_after_user_start(ProtectedSelf& self);

}  // namespace privota::rv32
