// Writes to one select partition are serialized by construction: every core function that reads a select
// partition to decide where (and what) to write holds the flash's exclusive use (Flash::acquire,
// ExclusiveFlash) for the whole step. On the host device the system-call loop (a user app confirming
// itself) and the OTA job's thread (activating a new image) write uotadata at the same time; interleaved,
// both would pick the same inactive sector.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "device_fixture.h"
#include "privota/ota_journal.h"

namespace privota {
namespace {

using test::Device;
using test::signed_image;

// A flash shared between threads, as the protected app's LockedFlash: one recursive lock for each call and
// for exclusive sections. It also counts writes to the select partitions made outside an exclusive section.
class WatchedFlash final : public Flash {
 public:
  explicit WatchedFlash(Flash& inner) : inner_(inner) {}

  void watch(uint32_t offset, uint32_t size) { watched_[watched_count_++] = {offset, size}; }
  uint32_t unheld_writes() const { return unheld_; }
  uint32_t held_writes() const { return held_; }

  uint32_t size() const override { return inner_.size(); }
  Status read(uint32_t addr, ByteSpan out) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return inner_.read(addr, out);
  }
  Status program(uint32_t addr, ConstByteSpan data) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    note(addr);
    return inner_.program(addr, data);
  }
  Status erase(uint32_t addr, uint32_t len) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    note(addr);
    return inner_.erase(addr, len);
  }
  void acquire() override {
    mutex_.lock();
    if (depth_++ == 0) owner_ = std::this_thread::get_id();
  }
  void release() override {
    --depth_;
    mutex_.unlock();
  }

 private:
  struct Range {
    uint32_t offset, size;
  };
  // Called with the lock held: depth_ and owner_ say whether this thread is inside an exclusive section.
  void note(uint32_t addr) {
    for (size_t i = 0; i < watched_count_; ++i) {
      if (addr < watched_[i].offset || addr >= watched_[i].offset + watched_[i].size) continue;
      const bool held = depth_ > 0 && owner_ == std::this_thread::get_id();
      ++(held ? held_ : unheld_);
    }
  }

  Flash& inner_;
  std::recursive_mutex mutex_;
  uint32_t depth_ = 0;
  std::thread::id owner_;
  Range watched_[2] = {};
  size_t watched_count_ = 0;
  uint32_t held_ = 0;
  uint32_t unheld_ = 0;
};

class ExclusiveFlashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shared_.watch(d_.slots(AppLevel::kUser).select.offset(), d_.slots(AppLevel::kUser).select.size());
    shared_.watch(d_.slots(AppLevel::kProtected).select.offset(),
                  d_.slots(AppLevel::kProtected).select.size());
    d_.attach(shared_);
  }
  AppSlots& user() { return d_.slots(AppLevel::kUser); }
  const std::vector<uint8_t>& v1() { return signed_image(AppLevel::kUser, "1.0.0", 1); }
  const std::vector<uint8_t>& v2() { return signed_image(AppLevel::kUser, "2.0.0", 2); }

  Device d_;
  WatchedFlash shared_{d_.flash()};
};

TEST_F(ExclusiveFlashTest, EveryWriteOfASelectPartitionIsInsideAnExclusiveSection) {
  d_.install(AppLevel::kUser, 0, v1());
  JournalRecord record;
  std::strcpy(record.url, "https://127.0.0.1/u.bin");
  record.url_len = static_cast<uint16_t>(std::strlen(record.url));
  record.total_size = 8192;
  const Result<uint8_t> journal = open_journal(user(), 0, record);
  ASSERT_TRUE(journal.is_ok()) << journal.status().reason();
  ASSERT_TRUE(commit_journal_sectors(user(), *journal, 1).is_ok());
  ASSERT_TRUE(close_journal(user(), *journal).is_ok());
  ASSERT_TRUE(d_.update(AppLevel::kUser, 0, v2()).is_ok());  // OtaWriter::activate
  ASSERT_TRUE(d_.boot(AppLevel::kUser).is_ok());             // the trial starts
  ASSERT_TRUE(d_.boot(AppLevel::kUser).is_ok());             // a trial-boot mark
  ASSERT_TRUE(add_failed_boot(user().select, 2, 1, BootFailure::kTrialFailed).is_ok());
  ASSERT_TRUE(mark_app_invalid(user(), 1).is_ok());
  ASSERT_TRUE(d_.boot(AppLevel::kUser).is_ok());  // the rollback
  ASSERT_TRUE(mark_app_valid(user(), 0, 1).is_ok());
  EXPECT_GT(shared_.held_writes(), 20u);
  EXPECT_EQ(shared_.unheld_writes(), 0u) << "a select write outside an exclusive section can interleave";
}

// The race that was seen: the running app confirms itself (mark_valid in the system-call loop) while its
// job activates the new image. Whichever comes first, the new image stays selected for the next boot and
// both sectors hold valid entries.
TEST_F(ExclusiveFlashTest, AConfirmationRacingAnActivationNeverUndoesIt) {
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    d_.install(AppLevel::kUser, 0, v1());
    ASSERT_TRUE(add_failed_boot(user().select, 2, 0, BootFailure::kCrashLoop).is_ok());  // so it writes
    std::atomic<bool> activated{false};
    std::thread job([&] {
      EXPECT_TRUE(d_.update(AppLevel::kUser, 0, v2()).is_ok());
      activated = true;
    });
    // Confirmations until the job is done: the first ones write, the last ones come after the activation.
    for (int i = 0; i < 1000 && !activated; ++i)
      EXPECT_TRUE(mark_app_valid(user(), 0, 1).is_ok());
    job.join();
    EXPECT_TRUE(mark_app_valid(user(), 0, 1).is_ok());
    const OtaDataView view = d_.view(AppLevel::kUser);
    EXPECT_TRUE(view.entries[0].valid() && view.entries[1].valid());
    EXPECT_EQ(view.active_slot(2), 1);
    EXPECT_EQ(view.active_state(), OtaState::kNew);
  }
}

}  // namespace
}  // namespace privota
