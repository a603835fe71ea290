#include "flash_image.h"

#include <fmt/format.h>

#include "privota/app_image.h"
#include "privota/flash_region.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "tool_error.h"
#include "units.h"

namespace privota::tools {

void create_flash_file(const std::filesystem::path& path, uint32_t size, const PartitionTable& table) {
  if (size < kPartitionTableOffset + Flash::kSectorSize || size % Flash::kSectorSize != 0) {
    throw ToolError(fmt::format("flash size 0x{:x} is too small or not a multiple of 4 KiB", size));
  }
  const Status valid = table.validate(size);
  if (!valid.is_ok()) {
    throw ToolError(
        fmt::format("partition table does not fit a {} flash: partition '{}': {}", format_byte_count(size),
                    valid.detail() < table.count() ? table[valid.detail()].name : "?", valid.reason()));
  }
  host::MbedMd5 md5;
  std::vector<uint8_t> bytes(kPartitionTableMaxSize);
  check(table.serialize({bytes.data(), bytes.size()}, md5), "encoding the partition table");
  Result<host::FileFlash> flash = host::FileFlash::create(path, size);
  check(flash.status(), fmt::format("creating '{}'", path.string()));
  check(flash->program(kPartitionTableOffset, {bytes.data(), bytes.size()}), "writing the partition table");
}

void write_partition(Flash& flash, const PartitionWrite& write) {
  host::MbedMd5 md5;
  const Result<PartitionTable> table = PartitionTable::read(flash, md5);
  check(table.status(), "partition table at 0x8000");
  const Partition* partition = table->find(write.partition.c_str());
  if (partition == nullptr)
    throw ToolError(fmt::format("no partition named '{}' in the table", write.partition));
  if (write.bytes.size() > partition->size) {
    throw ToolError(fmt::format("{} bytes do not fit partition '{}' ({} bytes)", write.bytes.size(),
                                partition->name, partition->size));
  }
  if (partition->is_app() && !write.raw) {
    host::MbedSha256 sha;
    AppImageValidator validator(sha, AppImageLimits{partition->size});
    const Result<size_t> used = validator.update({write.bytes.data(), write.bytes.size()});
    const Result<AppImageInfo> info = validator.info();
    if (!used.is_ok() || !info.is_ok()) {
      throw ToolError(
          fmt::format("refusing to write into app partition '{}': not a valid app image: {} "
                      "(use --raw to write it anyway)",
                      partition->name, describe(used.is_ok() ? info.status() : used.status())));
    }
  }
  FlashRegion region(flash, partition->offset, partition->size);
  check(region.erase(0, partition->size), fmt::format("erasing '{}'", partition->name));
  check(region.program(0, {write.bytes.data(), write.bytes.size()}),
        fmt::format("writing '{}'", partition->name));
}

}  // namespace privota::tools
