// The ESP-IDF binary partition table, byte for byte (components/partition_table, esp_flash_partitions.h):
//
//   offset 0x8000, at most 0xC00 bytes, a sequence of 32-byte records:
//   +0  u16 magic 0x50AA (bytes AA 50)   +2 u8 type   +3 u8 subtype
//   +4  u32 offset                       +8 u32 size  +12 char name[16] (NUL padded)   +28 u32 flags
//   then optionally the MD5 record: EB EB, 14 x FF, MD5 of every byte before this record;
//   then 0xFF up to the end.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "privota/digest.h"
#include "privota/flash.h"
#include "privota/result.h"
#include "privota/span.h"

namespace privota {

constexpr uint32_t kPartitionTableOffset = 0x8000;
constexpr uint32_t kPartitionTableMaxSize = 0xC00;
constexpr uint32_t kPartitionEntrySize = 32;
constexpr uint16_t kPartitionMagic = 0x50AA;
constexpr uint16_t kPartitionMd5Magic = 0xEBEB;
// 0xC00 holds 96 records; one must be left for the MD5 record, as gen_esp32part.py requires.
constexpr size_t kMaxPartitions = kPartitionTableMaxSize / kPartitionEntrySize - 1;
constexpr size_t kPartitionNameMax = 16;  // bytes in the record; a 16-byte name has no terminating NUL

// Partition types and subtypes. The user_* values are ESP Privilege Separation's additions.
enum class PartitionType : uint8_t { kApp = 0x00, kData = 0x01 };

namespace app_subtype {
constexpr uint8_t kFactory = 0x00;
constexpr uint8_t kOtaMin = 0x10;  // ota_0 .. ota_15
constexpr uint8_t kOtaMax = 0x1F;
constexpr uint8_t kTest = 0x20;
constexpr uint8_t kUser0 = 0x40;
constexpr uint8_t kUser1 = 0x41;
}  // namespace app_subtype

namespace data_subtype {
constexpr uint8_t kOta = 0x00;  // otadata
constexpr uint8_t kPhy = 0x01;
constexpr uint8_t kNvs = 0x02;
constexpr uint8_t kCoredump = 0x03;
constexpr uint8_t kNvsKeys = 0x04;
constexpr uint8_t kEfuse = 0x05;
constexpr uint8_t kUndefined = 0x06;
constexpr uint8_t kUserOta = 0x50;  // uotadata
constexpr uint8_t kEspHttpd = 0x80;
constexpr uint8_t kFat = 0x81;
constexpr uint8_t kSpiffs = 0x82;
constexpr uint8_t kLittleFs = 0x83;
}  // namespace data_subtype

namespace partition_flag {
constexpr uint32_t kEncrypted = 1u << 0;
constexpr uint32_t kReadOnly = 1u << 1;  // ESP-IDF 5
}  // namespace partition_flag

// Alignment the bootloader requires: apps are mapped through the MMU in 64 KiB pages.
constexpr uint32_t kAppPartitionAlign = 0x10000;
constexpr uint32_t kDataPartitionAlign = 0x1000;
// otadata/uotadata hold exactly two 4 KiB select sectors.
constexpr uint32_t kOtaDataPartitionSize = 0x2000;

struct Partition {
  uint8_t type = 0;
  uint8_t subtype = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
  char name[kPartitionNameMax + 1] = {};  // always NUL-terminated here
  uint32_t flags = 0;

  bool is_app() const { return type == static_cast<uint8_t>(PartitionType::kApp); }
  bool is(PartitionType t, uint8_t sub) const { return type == static_cast<uint8_t>(t) && subtype == sub; }
  uint32_t end() const { return offset + size; }
};

class PartitionTable {
 public:
  // Decodes the records in `bytes` (the table region, normally 0xC00 bytes). Checks the format only:
  // magic of every record, the MD5 record if present, names. Use validate() for the layout rules.
  static Result<PartitionTable> parse(ConstByteSpan bytes, Md5& md5);
  // Reads the table from kPartitionTableOffset, parses and validates it against the flash size.
  static Result<PartitionTable> read(Flash& flash, Md5& md5);

  // Layout rules the bootloader relies on: sizes non-zero, app offsets 64 KiB aligned and data 4 KiB,
  // everything past the table and inside `flash_size`, no overlaps, unique names, one otadata of 0x2000,
  // at most one uotadata of 0x2000. Status::detail() is the index of the offending partition.
  Status validate(uint32_t flash_size) const;

  // Writes the records, the MD5 record and 0xFF padding into `out` (at least kPartitionTableMaxSize).
  Status serialize(ByteSpan out, Md5& md5) const;

  Status add(const Partition& partition);
  size_t count() const { return count_; }
  const Partition& operator[](size_t i) const { return entries_[i]; }
  bool has_md5() const { return has_md5_; }

  const Partition* find(PartitionType type, uint8_t subtype) const;
  const Partition* find(const char* name) const;

 private:
  Partition entries_[kMaxPartitions];
  size_t count_ = 0;
  bool has_md5_ = false;
};

}  // namespace privota
