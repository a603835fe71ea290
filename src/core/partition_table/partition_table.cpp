#include "privota/partition_table.h"

#include <string.h>

#include "privota/byte_order.h"

namespace privota {
namespace {

// Nothing may start below the end of the sector that holds the table: the 2nd-stage bootloader and the
// table itself live there.
constexpr uint32_t kFirstPartitionOffset = kPartitionTableOffset + Flash::kSectorSize;

bool all_bytes_are(ConstByteSpan bytes, uint8_t value) {
  for (uint8_t b : bytes) {
    if (b != value) return false;
  }
  return true;
}

Partition decode_entry(const uint8_t* record) {
  Partition p;
  p.type = record[2];
  p.subtype = record[3];
  p.offset = load_le32(record + 4);
  p.size = load_le32(record + 8);
  memcpy(p.name, record + 12, kPartitionNameMax);
  p.name[kPartitionNameMax] = '\0';
  p.flags = load_le32(record + 28);
  return p;
}

void encode_entry(const Partition& p, uint8_t* record) {
  store_le16(record, kPartitionMagic);
  record[2] = p.type;
  record[3] = p.subtype;
  store_le32(record + 4, p.offset);
  store_le32(record + 8, p.size);
  memset(record + 12, 0, kPartitionNameMax);
  size_t name_len = 0;  // strnlen is POSIX, not in every freestanding libc
  while (name_len < kPartitionNameMax && p.name[name_len] != '\0')
    ++name_len;
  memcpy(record + 12, p.name, name_len);
  store_le32(record + 28, p.flags);
}

Status check_md5_record(ConstByteSpan table, size_t record_offset, Md5& md5) {
  const uint8_t* record = table.data() + record_offset;
  if (!all_bytes_are(ConstByteSpan(record + 2, 14), 0xFF)) {
    return Status::error(Code::kBadMagic, "partition table MD5 record has no 0xFF filler",
                         static_cast<uint32_t>(record_offset));
  }
  uint8_t digest[Md5::kDigestSize];
  md5.begin();
  md5.update(table.first(record_offset));
  md5.finish(digest);
  if (!digest_equal(ConstByteSpan(digest, sizeof digest), ConstByteSpan(record + 16, 16))) {
    return Status::error(Code::kBadHash, "partition table MD5 does not match its records",
                         static_cast<uint32_t>(record_offset));
  }
  return Status::ok();
}

bool alignment_ok(const Partition& p) {
  const uint32_t align = p.is_app() ? kAppPartitionAlign : kDataPartitionAlign;
  return p.offset % align == 0;
}

Status check_one(const Partition& p, uint32_t flash_size, uint32_t index) {
  if (p.size == 0) return Status::error(Code::kBadLength, "partition has size 0", index);
  if (p.offset < kFirstPartitionOffset) {
    return Status::error(Code::kOverlap,
                         "partition overlaps the bootloader or partition table (below 0x9000)", index);
  }
  if (!alignment_ok(p)) {
    return Status::error(Code::kMisaligned,
                         p.is_app() ? "app partition offset is not 64 KiB (0x10000) aligned"
                                    : "data partition offset is not 4 KiB (0x1000) aligned",
                         index);
  }
  if (p.size > flash_size || p.offset > flash_size - p.size) {
    return Status::error(Code::kOutOfBounds, "partition ends beyond the flash size", index);
  }
  return Status::ok();
}

}  // namespace

Result<PartitionTable> PartitionTable::parse(ConstByteSpan bytes, Md5& md5) {
  PartitionTable table;
  if (bytes.size() > kPartitionTableMaxSize) bytes = bytes.first(kPartitionTableMaxSize);
  for (size_t at = 0;; at += kPartitionEntrySize) {
    // A completely full table has no room for an end marker; the bootloader stops at 0xC00 as well.
    if (at == kPartitionTableMaxSize) break;
    if (at + kPartitionEntrySize > bytes.size()) {
      return Status::error(Code::kTruncated, "partition table ends without an end marker",
                           static_cast<uint32_t>(at));
    }
    const uint8_t* record = bytes.data() + at;
    const uint16_t magic = load_le16(record);
    if (magic == kPartitionMagic) {
      if (table.has_md5_) {
        return Status::error(Code::kTrailingData, "partition record after the MD5 record",
                             static_cast<uint32_t>(at));
      }
      PRIVOTA_TRY(table.add(decode_entry(record)));
    } else if (magic == kPartitionMd5Magic && !table.has_md5_) {
      PRIVOTA_TRY(check_md5_record(bytes, at, md5));
      table.has_md5_ = true;
    } else if (all_bytes_are(ConstByteSpan(record, kPartitionEntrySize), 0xFF)) {
      break;
    } else {
      return Status::error(Code::kBadMagic, "partition record has neither entry nor MD5 magic",
                           static_cast<uint32_t>(at));
    }
  }
  if (table.count_ == 0) return Status::error(Code::kNotFound, "partition table has no partitions");
  return table;
}

Result<PartitionTable> PartitionTable::read(Flash& flash, Md5& md5) {
  uint8_t bytes[kPartitionTableMaxSize];
  PRIVOTA_TRY(flash.read(kPartitionTableOffset, ByteSpan(bytes, sizeof bytes)));
  Result<PartitionTable> table = parse(ConstByteSpan(bytes, sizeof bytes), md5);
  if (!table.is_ok()) return table;
  PRIVOTA_TRY(table->validate(flash.size()));
  return table;
}

Status PartitionTable::add(const Partition& partition) {
  if (count_ >= kMaxPartitions) {
    return Status::error(Code::kLimitExceeded, "too many partitions for a 0xC00-byte table",
                         static_cast<uint32_t>(count_));
  }
  entries_[count_++] = partition;
  entries_[count_ - 1].name[kPartitionNameMax] = '\0';
  return Status::ok();
}

Status PartitionTable::validate(uint32_t flash_size) const {
  size_t otadata = 0;
  size_t uotadata = 0;
  for (size_t i = 0; i < count_; ++i) {
    const Partition& p = entries_[i];
    const uint32_t index = static_cast<uint32_t>(i);
    PRIVOTA_TRY(check_one(p, flash_size, index));
    const bool is_otadata = p.is(PartitionType::kData, data_subtype::kOta);
    const bool is_uotadata = p.is(PartitionType::kData, data_subtype::kUserOta);
    if ((is_otadata || is_uotadata) && p.size != kOtaDataPartitionSize) {
      return Status::error(Code::kBadLength, "otadata/uotadata partition size must be 0x2000", index);
    }
    if ((is_otadata && ++otadata > 1) || (is_uotadata && ++uotadata > 1)) {
      return Status::error(Code::kDuplicate, "more than one otadata/uotadata partition", index);
    }
    for (size_t j = 0; j < i; ++j) {
      const Partition& q = entries_[j];
      if (p.offset < q.end() && q.offset < p.end()) {
        return Status::error(Code::kOverlap, "partition overlaps an earlier partition", index);
      }
      if (strncmp(p.name, q.name, kPartitionNameMax) == 0) {
        return Status::error(Code::kDuplicate, "partition name is used twice", index);
      }
    }
  }
  return Status::ok();
}

Status PartitionTable::serialize(ByteSpan out, Md5& md5) const {
  if (out.size() < kPartitionTableMaxSize) {
    return Status::error(Code::kInvalidArgument, "buffer is smaller than a partition table (0xC00)");
  }
  memset(out.data(), 0xFF, kPartitionTableMaxSize);
  for (size_t i = 0; i < count_; ++i)
    encode_entry(entries_[i], out.data() + i * kPartitionEntrySize);

  const size_t md5_at = count_ * kPartitionEntrySize;
  uint8_t* md5_record = out.data() + md5_at;
  store_le16(md5_record, kPartitionMd5Magic);
  uint8_t digest[Md5::kDigestSize];
  md5.begin();
  md5.update(ConstByteSpan(out.data(), md5_at));
  md5.finish(digest);
  memcpy(md5_record + 16, digest, sizeof digest);
  return Status::ok();
}

const Partition* PartitionTable::find(PartitionType type, uint8_t subtype) const {
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].is(type, subtype)) return &entries_[i];
  }
  return nullptr;
}

const Partition* PartitionTable::find(const char* name) const {
  for (size_t i = 0; i < count_; ++i) {
    if (strncmp(entries_[i].name, name, kPartitionNameMax + 1) == 0) return &entries_[i];
  }
  return nullptr;
}

}  // namespace privota
