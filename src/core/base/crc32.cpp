#include "privota/crc32.h"

namespace privota {
namespace {

// Four bits at a time: a 64-byte table keeps the core small on a microcontroller; CRCs here cover only
// small records (select entries, signature blocks), so speed is not the constraint.
constexpr uint32_t kNibbleTable[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

}  // namespace

uint32_t crc32_le(uint32_t crc, ConstByteSpan data) {
  crc = ~crc;
  for (uint8_t byte : data) {
    crc ^= byte;
    crc = (crc >> 4) ^ kNibbleTable[crc & 0x0F];
    crc = (crc >> 4) ^ kNibbleTable[crc & 0x0F];
  }
  return ~crc;
}

}  // namespace privota
