// OtaHost: the rv32 protected firmware's OTA service. With a network section in the eFuse block (TLS CA,
// allowed hosts and ports: device.json's ota section) it brings up the network (QEMU's user network, the
// guest at 10.0.2.15) and runs the core's OtaService on Rv32JobRunner over HttpsTransport; without one, or
// when the machine has no NIC, every OTA job is refused with a reason. The job runs in the background: the
// trap handler gives it one turn per timer slice (step()), so the user app keeps its CPU and its system
// calls while the image downloads.
#pragma once

#include "privota/app_slots.h"
#include "privota/ota_service.h"
#include "privota/partition_table.h"
#include "privota/rv32/efuse_block.h"
#include "privota/rv32/mbedtls_crypto.h"
#include "privota/supervisor.h"
#include "protected_self.h"

namespace privota::rv32 {

struct OtaHostConfig {
  const EfuseBlock* efuse = nullptr;
  Flash* flash = nullptr;
  const PartitionTable* table = nullptr;
  MbedCertificateVerifier* user_ca = nullptr;
  // The firmware's 4 KiB verification scratch: the job's signature check runs in it on the main loop.
  ByteSpan scratch;
  // The user level's slots and running app, to resume a job from its journal (nullptr: nothing runs).
  AppSlots* slots = nullptr;
  uint32_t running_slot = 0;
  const AppDescriptor* running = nullptr;
  // The protected firmware itself: its own job's journal is resumed first (as on the host), and the
  // owner's request of this power-on starts its update.
  ProtectedSelf* self = nullptr;
};

// The service the SyscallService serves the user app's ota_* calls from (set up once). A job interrupted by
// a power cut or a reboot goes on from its journal (the protected level's first); then the owner's request
// starts the protected firmware's update. OtaService::running() says whether a job runs.
OtaService& ota_host_init(const OtaHostConfig& config);

// One turn of the background job (nothing when none runs). When the job ended, the event the Supervisor
// must hear (kJobActivated: the device reboots into the new image; kJobEnded) and true; else false.
bool ota_host_step(SupervisorEventKind& finished);

}  // namespace privota::rv32
