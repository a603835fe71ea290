// The device owner's request for this power-on: update the protected firmware from a URL (privota-sim
// --protected-update URL, as on the host device). It is not configuration: the sim places the block in RAM
// with QEMU's loader only on the power-on it was asked for (as an owner's console or fleet message would
// arrive once). The request itself is not kept: the job it starts journals its URL in otadata's sectors, so
// a power cut or a reboot during the download resumes it from the journal without the request.
//
//   +0 u32 magic "PVOR"  +4 u16 version (1)  +6 u16 URL length (without its NUL, 1..479)  +8 the URL,
//   NUL-terminated  +508 u32 crc32_le(0, bytes 0..508)
// RAM reads zeros where QEMU loaded nothing: no magic is no request. Freestanding: the firmware and the sim
// both compile it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/result.h"
#include "privota/span.h"

namespace privota::rv32 {

constexpr size_t kOwnerRequestSize = 512;
constexpr uint32_t kOwnerRequestMagic = 0x524F5650;  // "PVOR" little-endian
constexpr uint16_t kOwnerRequestVersion = 1;
constexpr size_t kOwnerRequestUrlOffset = 8;
constexpr size_t kOwnerRequestUrlMax = 479;  // the URL policy's own maximum (docs/ota-service.md)
constexpr size_t kOwnerRequestCrcOffset = kOwnerRequestSize - 4;

// The protected-update URL (NUL-terminated, points into `block`); kNotFound when the block holds no
// request, another code when it holds a damaged one.
Result<const char*> decode_owner_request(ConstByteSpan block);
// Writes a full block (kOwnerRequestSize bytes) asking for an update from `url`.
Status encode_owner_request(Span<const char> url, ByteSpan out);

}  // namespace privota::rv32
