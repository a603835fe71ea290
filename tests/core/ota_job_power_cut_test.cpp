// The OTA job under power cuts: for every flash write k of a whole job (journal, erases, pages, commits,
// activation), cut the power during write k, reboot, and check that
//   - with a live journal record, resume_from_journal() + run() ends with the new image selected and
//     verifying, having re-received at most the one sector in progress (reads never cross a sector end);
//   - without one (the cut came before the record was complete, or during/after activation), the device
//     boots the old or the new image, never neither.
#include <gtest/gtest.h>

#include <cstdio>

#include "ota_job_fakes.h"
#include "privota/host/power_cut_flash.h"

namespace privota {
namespace {

using test::JobRig;

struct CutStats {
  uint64_t writes = 0;
  uint64_t resumed = 0;    // cut points after which the journal resumed the job
  uint64_t rebooted = 0;   // cut points with no live record: the device just booted
  uint32_t max_extra = 0;  // most bytes received again beyond the committed sectors
};

void cut_everywhere(const char* name, const std::vector<uint8_t>& image) {
  JobRig counted(image);
  host::PowerCutFlash counter(counted.device.flash(), 0);
  counted.device.attach(counter);
  ASSERT_TRUE(counted.run().is_ok()) << counted.last.error.reason();
  CutStats stats;
  stats.writes = counter.writes();

  for (uint64_t k = 1; k <= stats.writes; ++k) {
    SCOPED_TRACE(std::string(name) + ", cut at write " + std::to_string(k));
    JobRig rig(image);
    rig.transport = test::FakeTransport(k);
    rig.transport.file = image;
    host::PowerCutFlash cut(rig.device.flash(), k, k * 7919);
    rig.device.attach(cut);
    ASSERT_EQ(rig.run().code(), Code::kPowerLost);
    rig.device.attach(rig.device.flash());  // reboot: the bare flash as the cut left it

    const Result<JournalRecord> record = read_live_journal(rig.device.slots(AppLevel::kUser));
    if (!record.is_ok()) {
      ASSERT_EQ(record.status().code(), Code::kNotFound) << record.status().reason();
      const std::string booted = rig.booted_version();
      EXPECT_TRUE(booted == "1.0.0" || booted == "2.0.0") << "booted " << booted;
      ++stats.rebooted;
      continue;
    }
    rig.transport.requests.clear();
    rig.observer.reports.clear();
    OtaJob job(rig.context());
    ASSERT_TRUE(job.resume_from_journal().is_ok());
    const Status resumed = job.run();
    ASSERT_TRUE(resumed.is_ok()) << resumed.reason();
    EXPECT_TRUE(rig.selected_new());
    EXPECT_TRUE(rig.device.verify(AppLevel::kUser, 1).is_ok());
    EXPECT_EQ(rig.booted_version(), "2.0.0");
    const uint32_t committed = record->committed_sectors * Flash::kSectorSize;
    const uint32_t received = job.progress().bytes_received;
    EXPECT_EQ(received, image.size() - committed) << "the resumed job asks for exactly the missing tail";
    // What the cut job had received beyond the committed sectors: what is downloaded twice.
    const uint32_t before_cut = rig.last.bytes_received;
    const uint32_t extra = before_cut > committed ? before_cut - committed : 0;
    EXPECT_LE(extra, Flash::kSectorSize);
    stats.max_extra = std::max(stats.max_extra, extra);
    ++stats.resumed;
    if (testing::Test::HasFailure()) return;
  }
  std::printf(
      "power-cut: %-32s %3llu writes, %3llu cut points, all recovered (%llu resumed, %llu booted; "
      "at most %u bytes received twice)\n",
      name, static_cast<unsigned long long>(stats.writes), static_cast<unsigned long long>(stats.writes),
      static_cast<unsigned long long>(stats.resumed), static_cast<unsigned long long>(stats.rebooted),
      stats.max_extra);
}

TEST(OtaJobPowerCut, FourSectorImageResumesOrBootsAfterEveryCut) {
  const std::vector<uint8_t>& image = test::signed_image(AppLevel::kUser, "2.0.0", 2, 8000);
  ASSERT_EQ(image.size(), 4 * Flash::kSectorSize);
  cut_everywhere("ota job, 16 KiB image", image);
}

TEST(OtaJobPowerCut, SeventyKiBImageResumesOrBootsAfterEveryCut) {
  // Larger than a 64 KiB block: the writer's block erase is cut too.
  const std::vector<uint8_t>& image = test::signed_image(AppLevel::kUser, "2.0.0", 2, 70000);
  cut_everywhere("ota job, 76 KiB image", image);
}

}  // namespace
}  // namespace privota
