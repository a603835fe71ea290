#include "privota/rv32/image_loader.h"

namespace privota::rv32 {

Status load_app_segments(Flash& region, const AppImageInfo& info, RamWindow window) {
  for (uint8_t i = 0; i < info.segment_count; ++i) {
    const SegmentInfo& s = info.segments[i];
    if (!window.contains(s.load_addr, s.data_len))
      return Status::error(Code::kOutOfBounds, "image segment loads outside its RAM window", s.load_addr);
  }
  if (!window.contains(info.entry_addr, 2))
    return Status::error(Code::kOutOfBounds, "image entry point is outside its RAM window", info.entry_addr);
  for (uint8_t i = 0; i < info.segment_count; ++i) {
    const SegmentInfo& s = info.segments[i];
    PRIVOTA_TRY(region.read(s.data_offset, {reinterpret_cast<uint8_t*>(uintptr_t{s.load_addr}), s.data_len}));
  }
  // The loaded code is new to the instruction fetch path. fence.i names its extension itself: an LTO link
  // assembles with the link's -march (rv32imc, for picolibc's multilib), which lacks zifencei.
  __asm__ volatile(".option push\n.option arch, +zifencei\nfence.i\n.option pop" ::: "memory");
  return Status::ok();
}

}  // namespace privota::rv32
