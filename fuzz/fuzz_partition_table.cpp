// Fuzzes the binary partition table decoder: parse, validate against a 4 MiB flash, and when it parses,
// serialize and parse again — the round trip must give the same table.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "privota/host/mbedtls_digest.h"
#include "privota/partition_table.h"

using namespace privota;

namespace {

bool same_partition(const Partition& a, const Partition& b) {
  return a.type == b.type && a.subtype == b.subtype && a.offset == b.offset && a.size == b.size &&
         a.flags == b.flags && strcmp(a.name, b.name) == 0;  // bytes after a name's NUL are not kept
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  host::MbedMd5 md5;
  Result<PartitionTable> parsed = PartitionTable::parse(ConstByteSpan(data, size), md5);
  if (!parsed.is_ok()) return 0;
  const PartitionTable& table = parsed.value();
  (void)table.validate(4 * 1024 * 1024);
  for (size_t i = 0; i < table.count(); ++i) {
    if (table[i].name[kPartitionNameMax] != '\0') __builtin_trap();  // names are always terminated
    (void)table.find(table[i].name);
  }

  uint8_t out[kPartitionTableMaxSize];
  if (!table.serialize(ByteSpan(out, sizeof out), md5).is_ok()) return 0;
  Result<PartitionTable> again = PartitionTable::parse(ConstByteSpan(out, sizeof out), md5);
  if (!again.is_ok()) __builtin_trap();  // what we wrote we must read
  if (again->count() != table.count()) __builtin_trap();
  for (size_t i = 0; i < table.count(); ++i) {
    if (!same_partition(table[i], (*again)[i])) __builtin_trap();
  }
  return 0;
}
