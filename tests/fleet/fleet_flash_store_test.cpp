// The fleet agent's record in flash: the newest complete record survives a power cut at every write of a
// save, and a torn or foreign sector never reads as a record.
#include <gtest/gtest.h>

#include "privota/host/flash_fleet_job_store.h"
#include "privota/host/memory_flash.h"
#include "privota/host/power_cut_flash.h"

namespace privota::test {
namespace {

using host::FlashFleetJobStore;
using host::FleetJobRecord;
using host::FleetJobStep;
using host::FleetOutcome;

// A job going through its steps to its outcome: what the agent saves, in order.
std::vector<FleetJobRecord> a_jobs_records() {
  host::FleetJob job{"r1-dev-a", host::FleetLevel::kUser, "https://127.0.0.1/app.bin", "2.0.0", 4096, {}};
  std::vector<FleetJobRecord> records;
  FleetJobRecord r;
  r.job = job;
  for (FleetJobStep step :
       {FleetJobStep::kReceived, FleetJobStep::kRunning, FleetJobStep::kAwaitingConfirm}) {
    r.step = step;
    records.push_back(r);
  }
  r.job.reset();
  r.last = host::FleetJobResult{job.id, FleetOutcome::kSucceeded, ""};
  r.unreported = {*r.last};
  records.push_back(r);
  r.unreported.clear();
  records.push_back(r);
  return records;
}

TEST(FlashFleetJobStore, KeepsTheNewestRecordAcrossSavesInTwoSectors) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  FlashFleetJobStore store(FlashRegion(flash, 0, flash.size()));
  EXPECT_EQ(store.load().to_json(), FleetJobRecord{}.to_json());  // erased flash: no record
  for (const FleetJobRecord& record : a_jobs_records()) {
    ASSERT_TRUE(store.save(record));
    EXPECT_EQ(FlashFleetJobStore(FlashRegion(flash, 0, flash.size())).load().to_json(), record.to_json());
  }
}

TEST(FlashFleetJobStore, APowerCutAtEveryWriteLosesNoCompleteRecord) {
  const std::vector<FleetJobRecord> records = a_jobs_records();
  // How many writes the whole sequence takes, counted without a cut.
  uint64_t total = 0;
  {
    host::MemoryFlash flash(2 * Flash::kSectorSize);
    host::PowerCutFlash counting(flash, 0);
    FlashFleetJobStore store(FlashRegion(counting, 0, flash.size()));
    for (const FleetJobRecord& record : records)
      ASSERT_TRUE(store.save(record));
    total = counting.writes();
  }
  ASSERT_GE(total, records.size() * 3);
  for (uint64_t cut = 1; cut <= total; ++cut) {
    SCOPED_TRACE("power cut at write " + std::to_string(cut));
    host::MemoryFlash flash(2 * Flash::kSectorSize);
    host::PowerCutFlash cutting(flash, cut, cut);
    FlashFleetJobStore store(FlashRegion(cutting, 0, flash.size()));
    std::optional<size_t> saved;  // the last record whose save completed
    size_t attempted = 0;
    for (; attempted < records.size(); ++attempted) {
      if (!store.save(records[attempted])) break;
      saved = attempted;
    }
    ASSERT_TRUE(cutting.power_lost());
    const FleetJobRecord after = FlashFleetJobStore(FlashRegion(flash, 0, flash.size())).load();
    // The last complete record, or the one being written if its header was whole: never older, never lost.
    // Compared by encoding: a record without a job carries no step.
    const std::string got = after.to_json();
    const bool is_saved = saved && got == records[*saved].to_json();
    const bool is_new = attempted < records.size() && got == records[attempted].to_json();
    const bool is_empty_before_any = !saved && got == FleetJobRecord{}.to_json();
    EXPECT_TRUE(is_saved || is_new || is_empty_before_any) << after.to_json();
  }
}

TEST(FlashFleetJobStore, ATornOrForeignSectorIsNotARecord) {
  host::MemoryFlash flash(2 * Flash::kSectorSize);
  FlashFleetJobStore store(FlashRegion(flash, 0, flash.size()));
  const FleetJobRecord record = a_jobs_records()[1];
  ASSERT_TRUE(store.save(record));
  // A byte of the text cleared (what a torn program leaves): the CRC refuses it, the store is empty.
  uint8_t byte = 0;
  ASSERT_TRUE(flash.read(FlashFleetJobStore::kHeaderSize + 5, {&byte, 1}).is_ok());
  byte = 0x00;
  ASSERT_TRUE(flash.program(FlashFleetJobStore::kHeaderSize + 5, {&byte, 1}).is_ok());
  EXPECT_EQ(store.load().to_json(), FleetJobRecord{}.to_json());
  // A record too large for a sector is refused, not cut.
  FleetJobRecord big = record;
  big.job->url = "https://127.0.0.1/" + std::string(5000, 'a');
  EXPECT_FALSE(store.save(big));
}

}  // namespace
}  // namespace privota::test
