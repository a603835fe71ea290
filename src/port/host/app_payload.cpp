#include "privota/host/app_payload.h"

namespace privota::host {

Result<std::vector<uint8_t>> read_app_payload(Flash& region, const AppImageInfo& info) {
  for (uint8_t i = 0; i < info.segment_count; ++i) {
    const SegmentInfo& segment = info.segments[i];
    if (segment.load_addr < kPayloadLoadBase) continue;
    std::vector<uint8_t> bytes(segment.data_len);
    const Status read = region.read(segment.data_offset, {bytes.data(), bytes.size()});
    if (!read.is_ok()) return read;
    return bytes;
  }
  return Status::error(Code::kNotFound, "image has no payload segment for the host device");
}

}  // namespace privota::host
