#include "flash_image.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "privota/app_image.h"
#include "privota/flash_region.h"
#include "privota/host/file_flash.h"
#include "privota/host/mbedtls_digest.h"
#include "signature_kind.h"
#include "tool_error.h"
#include "units.h"

namespace privota::tools {

void check_flash_size(uint32_t size) {
  if (std::find(std::begin(kFlashSizes), std::end(kFlashSizes), size) == std::end(kFlashSizes)) {
    throw ToolError(fmt::format("flash size {} is not one a chip has; use 1MB, 2MB, 4MB, 8MB or 16MB",
                                format_byte_count(size)));
  }
}

void create_flash_file(const std::filesystem::path& path, uint32_t size, const PartitionTable& table) {
  check_flash_size(size);
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

namespace {

bool is_user_slot(const Partition& partition) {
  return partition.subtype == app_subtype::kUser0 || partition.subtype == app_subtype::kUser1;
}

// A protected app slot (ota_N, factory) boots Secure Boot v2 images, a user slot user-app-certificate ones.
void check_fits_slot(const Partition& partition, const std::vector<uint8_t>& bytes, uint32_t image_size) {
  const bool user = is_user_slot(partition);
  const char* wanted = user ? "user-app certificate" : "Secure Boot v2";
  const std::string found = signature_kind_name(signature_kind(bytes, image_size));
  if (found == wanted) return;
  const std::string what = found == "unsigned" ? "an unsigned image" : "a " + found + " image";
  throw ToolError(fmt::format(
      "refusing to write {} into {} app slot '{}', which boots {} images only "
      "(sign it with `privota image sign --scheme {}`, or use --force to write it "
      "anyway)",
      what, user ? "user" : "protected", partition.name, wanted, user ? "user-cert" : "secure-boot-v2"));
}

}  // namespace

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
    if (!write.force) check_fits_slot(*partition, write.bytes, info->image_size);
  }
  FlashRegion region(flash, partition->offset, partition->size);
  check(region.erase(0, partition->size), fmt::format("erasing '{}'", partition->name));
  check(region.program(0, {write.bytes.data(), write.bytes.size()}),
        fmt::format("writing '{}'", partition->name));
}

}  // namespace privota::tools
