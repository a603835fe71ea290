// The QEMU `virt` machine as the rv32 device sees it (qemu hw/riscv/virt.c), and how privota divides its
// RAM. docs/rv32.md draws the same map.
#pragma once

#include <stdint.h>

namespace privota::rv32 {

// Devices of the virt machine.
constexpr uintptr_t kClintBase = 0x02000000;
constexpr uintptr_t kClintMtimecmp = kClintBase + 0x4000;  // hart 0
constexpr uintptr_t kClintMtime = kClintBase + 0xBFF8;
constexpr uint32_t kClintHz = 10000000;      // virt's mtime runs at 10 MHz
constexpr uintptr_t kUartBase = 0x10000000;  // ns16550a
constexpr uintptr_t kVirtioBase = 0x10001000;
constexpr uintptr_t kVirtioStride = 0x1000;
constexpr uint32_t kVirtioSlots = 8;
constexpr uintptr_t kTestDevice = 0x00100000;  // sifive_test: write 0x5555 = power off, 0x7777 = reset

// RAM (0x80000000, QEMU's default 128 MiB; privota uses the first 2.25 MiB).
constexpr uintptr_t kRamBase = 0x80000000;
// The bootloader: QEMU loads it here and the reset vector jumps to it (-bios none -kernel).
constexpr uintptr_t kBootloaderBase = kRamBase;
constexpr uint32_t kBootloaderSize = 0x40000;
// The eFuse block: read-only facts about the device (trusted key digests), placed by QEMU's generic
// loader (-device loader,file=efuse.bin,addr=...) before reset, as the chip's eFuses exist before boot.
constexpr uintptr_t kEfuseBase = 0x80040000;
constexpr uint32_t kEfuseSize = 0x1000;
// The device owner's request for this power-on (privota/rv32/owner_request.h), placed by the loader the same
// way, only on the power-on it was made for.
constexpr uintptr_t kOwnerRequestBase = 0x80041000;
constexpr uint32_t kOwnerRequestBlockSize = 0x200;
// The protected firmware: every segment of its image must load inside this window.
constexpr uintptr_t kProtectedBase = 0x80100000;
constexpr uint32_t kProtectedSize = 0x100000;
// The user region: the user app's code, data and stack, the only RAM U-mode may touch (one NAPOT PMP
// entry, so its size is a power of two and its base aligned to it).
constexpr uintptr_t kUserBase = 0x80200000;
constexpr uint32_t kUserSize = 0x40000;

}  // namespace privota::rv32
