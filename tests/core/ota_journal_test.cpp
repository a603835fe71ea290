// The OTA job's journal in the active uotadata sector: layout, liveness, rotation, commits.
#include "privota/ota_journal.h"

#include <gtest/gtest.h>

#include <cstring>

#include "device_fixture.h"
#include "privota/byte_order.h"
#include "privota/crc32.h"

namespace privota {
namespace {

using test::Device;

JournalRecord record(const char* url = "https://updates.example.com/app.bin",
                     const char* validator = "\"abc\"", uint32_t total = 16 * 4096) {
  JournalRecord r;
  std::strcpy(r.url, url);
  r.url_len = static_cast<uint16_t>(std::strlen(url));
  std::strcpy(r.validator, validator);
  r.validator_len = static_cast<uint16_t>(std::strlen(validator));
  r.total_size = total;
  return r;
}

struct JournalRig {
  Device device;
  JournalRig() { device.install(AppLevel::kUser, 0, test::signed_image(AppLevel::kUser, "1.0.0", 1)); }
  AppSlots& slots() { return device.slots(AppLevel::kUser); }
  int active_sector() { return device.view(AppLevel::kUser).active; }
  // Bytes of the select partition at `offset` of record `index` in the active sector.
  std::vector<uint8_t> bytes(uint32_t index, uint32_t offset, uint32_t n) {
    std::vector<uint8_t> out(n);
    const uint32_t at = static_cast<uint32_t>(active_sector()) * 4096 + 1024 + index * 1024 + offset;
    EXPECT_TRUE(slots().select.read(at, {out.data(), n}).is_ok());
    return out;
  }
};

TEST(OtaJournal, RecordLayoutIsAsDocumented) {
  JournalRig rig;
  const JournalRecord r = record();
  ASSERT_EQ(open_journal(rig.slots(), 0, r).value(), 0u);
  const std::vector<uint8_t> head = rig.bytes(0, 0, 16);
  EXPECT_EQ(load_le32(head.data()), kJournalMagic);
  EXPECT_EQ(load_le32(head.data() + 4), r.total_size);
  EXPECT_EQ(load_le16(head.data() + 8), r.url_len);
  EXPECT_EQ(load_le16(head.data() + 10), r.validator_len);
  uint32_t crc = crc32_le(UINT32_MAX, {head.data(), 12});
  crc = crc32_le(crc, {reinterpret_cast<const uint8_t*>(r.url), r.url_len});
  crc = crc32_le(crc, {reinterpret_cast<const uint8_t*>(r.validator), r.validator_len});
  EXPECT_EQ(load_le32(head.data() + 12), crc);
  const std::vector<uint8_t> url = rig.bytes(0, 16, r.url_len + 1);
  EXPECT_EQ(std::memcmp(url.data(), r.url, r.url_len), 0);
  EXPECT_EQ(url.back(), 0xFF);  // no NUL written
  const std::vector<uint8_t> validator = rig.bytes(0, 496, r.validator_len);
  EXPECT_EQ(std::memcmp(validator.data(), r.validator, r.validator_len), 0);
  EXPECT_EQ(load_le32(rig.bytes(0, 640, 4).data()), 0xFFFFFFFFu);
  // ESP-IDF's entry and our floor record in front of it are untouched.
  EXPECT_EQ(rig.device.view(AppLevel::kUser).active_slot(2), 0);
  EXPECT_EQ(rig.device.view(AppLevel::kUser).active_state(), OtaState::kValid);
}

TEST(OtaJournal, ReadsBackTheLiveRecord) {
  JournalRig rig;
  EXPECT_EQ(read_live_journal(rig.slots()).status().code(), Code::kNotFound);
  ASSERT_TRUE(open_journal(rig.slots(), 0, record()).is_ok());
  const Result<JournalRecord> live = read_live_journal(rig.slots());
  ASSERT_TRUE(live.is_ok());
  EXPECT_STREQ(live->url, "https://updates.example.com/app.bin");
  EXPECT_STREQ(live->validator, "\"abc\"");
  EXPECT_EQ(live->total_size, 16u * 4096);
  EXPECT_EQ(live->committed_sectors, 0u);
  EXPECT_EQ(live->index, 0u);
}

TEST(OtaJournal, CommitsClearOneBitPerSectorInOrder) {
  JournalRig rig;
  const uint8_t index = open_journal(rig.slots(), 0, record()).value();
  ASSERT_TRUE(commit_journal_sectors(rig.slots(), index, 3).is_ok());
  EXPECT_EQ(rig.bytes(index, 768, 2), (std::vector<uint8_t>{0xF8, 0xFF}));
  ASSERT_TRUE(commit_journal_sectors(rig.slots(), index, 10).is_ok());
  EXPECT_EQ(rig.bytes(index, 768, 2), (std::vector<uint8_t>{0x00, 0xFC}));
  ASSERT_TRUE(commit_journal_sectors(rig.slots(), index, 4).is_ok());  // never lowers
  EXPECT_EQ(read_live_journal(rig.slots())->committed_sectors, 10u);
  EXPECT_EQ(commit_journal_sectors(rig.slots(), index, kJournalMaxSectors + 1).code(), Code::kLimitExceeded);
}

TEST(OtaJournal, CommittedSectorsNeverExceedTheImage) {
  JournalRig rig;
  const uint8_t index = open_journal(rig.slots(), 0, record("https://h/x", "e", 2 * 4096)).value();
  ASSERT_TRUE(commit_journal_sectors(rig.slots(), index, 9).is_ok());
  EXPECT_EQ(read_live_journal(rig.slots())->committed_sectors, 2u);
}

TEST(OtaJournal, WithoutSizeOrValidatorNothingCountsAsCommitted) {
  for (const JournalRecord& r : {record("https://h/x", "", 4096 * 4), record("https://h/x", "e", 0)}) {
    JournalRig rig;
    const uint8_t index = open_journal(rig.slots(), 0, r).value();
    ASSERT_TRUE(commit_journal_sectors(rig.slots(), index, 2).is_ok());
    EXPECT_EQ(read_live_journal(rig.slots())->committed_sectors, 0u);
  }
}

TEST(OtaJournal, ClosedRecordIsNotLive) {
  JournalRig rig;
  const uint8_t index = open_journal(rig.slots(), 0, record()).value();
  ASSERT_TRUE(close_journal(rig.slots(), index).is_ok());
  EXPECT_EQ(read_live_journal(rig.slots()).status().code(), Code::kNotFound);
  EXPECT_EQ(close_journal(rig.slots(), index).code(), Code::kNotFound);
  EXPECT_EQ(commit_journal_sectors(rig.slots(), index, 1).code(), Code::kNotFound);
}

TEST(OtaJournal, HalfWrittenRecordIsNotLive) {
  const JournalRecord r = record();
  // Each prefix of the record's three programs, and a header cut inside: never live.
  for (uint32_t cut = 1; cut < 16u + r.url_len + r.validator_len; ++cut) {
    JournalRig rig;
    JournalRig full;
    ASSERT_TRUE(open_journal(full.slots(), 0, r).is_ok());
    const uint32_t base = static_cast<uint32_t>(full.active_sector()) * 4096 + 1024;
    std::vector<uint8_t> image(1024);
    ASSERT_TRUE(full.slots().select.read(base, {image.data(), image.size()}).is_ok());
    // Copy the first `cut` written bytes (header, then URL, then validator) into a fresh device.
    const uint32_t order[] = {0, 16, 496};
    const uint32_t lens[] = {16, r.url_len, r.validator_len};
    uint32_t left = cut;
    for (int f = 0; f < 3 && left > 0; ++f) {
      const uint32_t n = std::min(left, lens[f]);
      ASSERT_TRUE(rig.slots().select.program(base + order[f], {image.data() + order[f], n}).is_ok());
      left -= n;
    }
    EXPECT_EQ(read_live_journal(rig.slots()).status().code(), Code::kNotFound) << "cut after " << cut;
    // The next open does not reuse a record that holds stray bytes.
    EXPECT_EQ(open_journal(rig.slots(), 0, r).value(), 1u) << "cut after " << cut;
  }
}

TEST(OtaJournal, OnlyTheLastUsedRecordCanBeLive) {
  JournalRig rig;
  ASSERT_EQ(open_journal(rig.slots(), 0, record("https://h/one", "a")).value(), 0u);
  const uint8_t second = open_journal(rig.slots(), 0, record("https://h/two", "b")).value();
  ASSERT_EQ(second, 1u);
  EXPECT_STREQ(read_live_journal(rig.slots())->url, "https://h/two");
  ASSERT_TRUE(close_journal(rig.slots(), second).is_ok());
  // Record 0 was never closed, but a newer job replaced it: it must not come back.
  EXPECT_EQ(read_live_journal(rig.slots()).status().code(), Code::kNotFound);
}

TEST(OtaJournal, RotatesTheSelectionWhenAllThreeRecordsAreUsed) {
  JournalRig rig;
  ASSERT_TRUE(mark_app_valid(rig.slots(), 0, 1).is_ok());
  const OtaDataView before = rig.device.view(AppLevel::kUser);
  for (uint8_t i = 0; i < 3; ++i) {
    const uint8_t index = open_journal(rig.slots(), 0, record()).value();
    EXPECT_EQ(index, i);
    ASSERT_TRUE(close_journal(rig.slots(), index).is_ok());
  }
  EXPECT_EQ(rig.device.view(AppLevel::kUser).active, before.active);
  EXPECT_EQ(open_journal(rig.slots(), 0, record("https://h/fourth", "d")).value(), 0u);
  const OtaDataView after = rig.device.view(AppLevel::kUser);
  EXPECT_NE(after.active, before.active);
  EXPECT_EQ(after.active_slot(2), before.active_slot(2));
  EXPECT_EQ(after.active_state(), before.active_state());
  EXPECT_EQ(after.secure_version_floor(), 1u);
  EXPECT_STREQ(read_live_journal(rig.slots())->url, "https://h/fourth");
  EXPECT_EQ(rig.device.boot(AppLevel::kUser)->slot, 0u);
}

TEST(OtaJournal, ASelectionWriteEndsTheRecord) {
  JournalRig rig;
  ASSERT_TRUE(open_journal(rig.slots(), 0, record()).is_ok());
  ASSERT_TRUE(write_ota_selection(rig.slots().select, 2, 1, OtaState::kNew).is_ok());
  EXPECT_EQ(read_live_journal(rig.slots()).status().code(), Code::kNotFound);
}

TEST(OtaJournal, WithoutASelectionOpenSelectsTheRunningSlotFirst) {
  Device device;
  AppSlots& slots = device.slots(AppLevel::kUser);
  ASSERT_EQ(device.view(AppLevel::kUser).active, -1);
  ASSERT_EQ(open_journal(slots, 1, record()).value(), 0u);
  EXPECT_EQ(device.view(AppLevel::kUser).active_slot(2), 1);
  EXPECT_EQ(device.view(AppLevel::kUser).active_state(), OtaState::kUndefined);
  EXPECT_TRUE(read_live_journal(slots).is_ok());
}

struct BadRecordRow {
  const char* name;
  JournalRecord record;
};

TEST(OtaJournal, RefusesRecordsItCannotStore) {
  JournalRecord empty_url = record();
  empty_url.url_len = 0;
  empty_url.url[0] = '\0';
  JournalRecord wrong_len = record();
  wrong_len.url_len = 3;
  JournalRecord long_validator = record();
  long_validator.validator_len = kMaxValidatorLength + 1;
  const BadRecordRow rows[] = {
      {"empty URL", empty_url}, {"length does not match", wrong_len}, {"validator too long", long_validator}};
  for (const BadRecordRow& row : rows) {
    JournalRig rig;
    EXPECT_EQ(open_journal(rig.slots(), 0, row.record).status().code(), Code::kInvalidArgument) << row.name;
  }
  JournalRig rig;
  EXPECT_EQ(open_journal(rig.slots(), 5, record()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(close_journal(rig.slots(), 3).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace privota
