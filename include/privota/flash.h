// Flash: the one interface through which the core touches storage (NOR semantics).
//
//  - erase(addr, len) sets whole 4 KiB sectors to 0xFF; addr and len must be sector aligned. How a range is
//    erased (4 KiB sector commands, 64 KiB block commands) is the device's business; callers ask only for
//    what they need.
//  - program(addr, data) can only clear bits (1 -> 0); it never sets a bit, like real NOR.
//  - read(addr, out) reads bytes.
// Every call checks bounds: nothing reaches outside [0, size()).
#pragma once

#include <stdint.h>

#include "privota/span.h"
#include "privota/status.h"

namespace privota {

class Flash {
 public:
  static constexpr uint32_t kSectorSize = 4096;
  // The largest erase unit SPI NOR offers; an aligned 64 KiB range erases faster as one block.
  static constexpr uint32_t kBlockSize = 65536;

  virtual uint32_t size() const = 0;
  virtual Status read(uint32_t addr, ByteSpan out) = 0;
  virtual Status program(uint32_t addr, ConstByteSpan data) = 0;
  virtual Status erase(uint32_t addr, uint32_t len) = 0;

  // Exclusive use for a read-decide-write sequence (every write of a select partition: its data says where
  // the next write goes, so two writers interleaved would both pick the same sector). A Flash shared by
  // several threads holds one lock (recursive) from acquire() to release() and takes it for each call
  // too; alone, a Flash needs nothing. Callers use ExclusiveFlash rather than these.
  virtual void acquire() {}
  virtual void release() {}

 protected:
  // Not virtual: the core never deletes a Flash through this interface (no heap), and a virtual destructor
  // would drag operator delete into freestanding builds.
  ~Flash() = default;
};

// Holds a Flash's exclusive use for its scope.
class ExclusiveFlash {
 public:
  explicit ExclusiveFlash(Flash& flash) : flash_(flash) { flash_.acquire(); }
  ~ExclusiveFlash() { flash_.release(); }
  ExclusiveFlash(const ExclusiveFlash&) = delete;
  ExclusiveFlash& operator=(const ExclusiveFlash&) = delete;

 private:
  Flash& flash_;
};

// Shared argument checks, so every Flash implementation refuses the same things with the same reasons.
Status check_flash_range(uint32_t flash_size, uint32_t addr, uint32_t len);
Status check_flash_erase(uint32_t flash_size, uint32_t addr, uint32_t len);

}  // namespace privota
