// What the host device's bootloader (inside privota-sim) and the protected app agree on: the file
// descriptors the protected app is started with, and the exit codes by which it tells the bootloader what
// the device does next. On a chip these are the ROM/bootloader hand-over and esp_restart(); here the chain of
// processes ends and the sim powers the device on again.
#pragma once

namespace privota::host {

// Fds of a launched protected app (everything else is closed).
inline constexpr int kProtectedFlashFd = 3;   // the flash file, read-write
inline constexpr int kProtectedConfigFd = 4;  // the resolved device configuration (JSON, a sealed memfd)
inline constexpr int kProtectedLogFd = 5;     // event log: one JSON object per line (event_log.h)
inline constexpr int kProtectedPowerFd = 6;   // shared power state (power_supply.h)

// Exit codes of the protected app.
inline constexpr int kExitHalt = 0;                // the user app ended and nothing is pending: power off
inline constexpr int kExitReboot = 64;             // esp_restart(): boot again
inline constexpr int kExitPowerCut = 65;           // a simulated power cut hit a flash write
inline constexpr int kExitNoBootableUserApp = 66;  // no user app slot verifies: nothing to run
inline constexpr int kExitBadHandover = 67;        // fds or configuration unusable (a bootloader bug)

}  // namespace privota::host
