// OtaWriter's durable_bytes() and resume(): what the OTA job's retries and journal build on.
#include <gtest/gtest.h>

#include "device_fixture.h"
#include "ota_job_fakes.h"

namespace privota {
namespace {

using test::Device;
using test::signed_image;

constexpr AppLevel kUser = AppLevel::kUser;

struct WriterRig {
  Device device;
  test::CountingFlash counting{device.flash()};
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  uint8_t scratch[kSignatureSectorSize];

  WriterRig() {
    device.install(kUser, 0, signed_image(kUser, "1.0.0", 1));
    // An older image fills the passive slot: nothing of it may count as the new one's bytes.
    FlashRegion& passive = device.slots(kUser).slots[1];
    const std::vector<uint8_t> old(passive.size(), 0x00);
    EXPECT_TRUE(passive.erase(0, passive.size()).is_ok());
    EXPECT_TRUE(passive.program(0, {old.data(), old.size()}).is_ok());
    device.attach(counting);
  }
  Status write(OtaWriter& writer, const std::vector<uint8_t>& image, size_t from, size_t to) {
    for (size_t at = from; at < to; at += 1000)
      PRIVOTA_TRY(writer.write({image.data() + at, std::min<size_t>(1000, to - at)}));
    return Status::ok();
  }
  Status finish(OtaWriter& writer) {
    return writer.finish(device.policy(kUser), sha, verifier, {scratch, sizeof scratch}).status();
  }
  // The passive slot's first n bytes equal the image's.
  bool slot_holds(const std::vector<uint8_t>& image, uint32_t n) {
    std::vector<uint8_t> bytes(n);
    EXPECT_TRUE(device.slots(kUser).slots[1].read(0, {bytes.data(), n}).is_ok());
    return std::equal(bytes.begin(), bytes.end(), image.begin());
  }
};

TEST(OtaWriterResume, DurableBytesAreWholePagesInFlash) {
  WriterRig rig;
  const std::vector<uint8_t>& image = signed_image(kUser, "2.0.0", 2);
  OtaWriter writer(rig.device.slots(kUser), 0);
  ASSERT_TRUE(writer.begin(static_cast<uint32_t>(image.size())).is_ok());
  EXPECT_EQ(writer.durable_bytes(), 0u);
  ASSERT_TRUE(rig.write(writer, image, 0, 1000).is_ok());
  EXPECT_EQ(writer.durable_bytes(), 768u);
  ASSERT_TRUE(rig.write(writer, image, 1000, image.size()).is_ok());
  EXPECT_EQ(writer.durable_bytes(), image.size());
  EXPECT_TRUE(rig.slot_holds(image, writer.durable_bytes()));
}

TEST(OtaWriterResume, SkippedBlankPagesHaveTheirSectorErasedBeforeTheyCount) {
  WriterRig rig;
  const std::vector<uint8_t>& image = signed_image(kUser, "2.0.0", 2);
  // The padding before the signature sector holds pages of 0xFF; stop right after them.
  const uint32_t sig = static_cast<uint32_t>(image.size()) - kSignatureSectorSize;
  ASSERT_EQ(image[sig - 1], 0xFF);
  OtaWriter writer(rig.device.slots(kUser), 0);
  ASSERT_TRUE(writer.begin(static_cast<uint32_t>(image.size())).is_ok());
  ASSERT_TRUE(rig.write(writer, image, 0, sig).is_ok());
  EXPECT_EQ(writer.durable_bytes(), sig);
  EXPECT_TRUE(rig.slot_holds(image, sig));
}

TEST(OtaWriterResume, ResumeContinuesFromASectorAndVerifies) {
  WriterRig rig;
  const std::vector<uint8_t>& image = signed_image(kUser, "2.0.0", 2);
  {
    OtaWriter first(rig.device.slots(kUser), 0);
    ASSERT_TRUE(first.begin(static_cast<uint32_t>(image.size())).is_ok());
    ASSERT_TRUE(rig.write(first, image, 0, 10000).is_ok());
    first.abort();
  }
  // The sector after the resume point holds half a sector of programmed pages: it is erased again.
  OtaWriter writer(rig.device.slots(kUser), 0);
  ASSERT_TRUE(writer.resume(static_cast<uint32_t>(image.size()), 8192).is_ok());
  EXPECT_EQ(writer.bytes_written(), 8192u);
  ASSERT_TRUE(rig.write(writer, image, 8192, image.size()).is_ok());
  ASSERT_TRUE(rig.finish(writer).is_ok());
  ASSERT_TRUE(writer.activate().is_ok());
  EXPECT_TRUE(rig.slot_holds(image, static_cast<uint32_t>(image.size())));
}

// finish() checking the signature in place needs a whole signature sector of scratch: a smaller one fails the
// attempt with the reason, and nothing can be activated.
TEST(OtaWriterResume, FinishInPlaceRefusesAScratchSmallerThanASignatureSector) {
  WriterRig rig;
  const std::vector<uint8_t>& image = signed_image(kUser, "2.0.0", 2);
  OtaWriter writer(rig.device.slots(kUser), 0);
  ASSERT_TRUE(writer.begin(static_cast<uint32_t>(image.size())).is_ok());
  ASSERT_TRUE(rig.write(writer, image, 0, image.size()).is_ok());
  const Status small =
      writer.finish(rig.device.policy(kUser), rig.sha, rig.verifier, {rig.scratch, kSignatureSectorSize - 1})
          .status();
  EXPECT_EQ(small.code(), Code::kInvalidArgument);
  EXPECT_STREQ(small.reason(), "scratch buffer is smaller than a signature sector");
  EXPECT_EQ(writer.activate().code(), Code::kBadState);
}

struct ResumeRow {
  const char* name;
  uint32_t size;
  uint32_t durable;
  Code code;
};

TEST(OtaWriterResume, RefusesImpossibleResumePoints) {
  const ResumeRow rows[] = {
      {"not a sector boundary", 8 * 4096, 5000, Code::kInvalidArgument},
      {"past the image", 8 * 4096, 9 * 4096, Code::kInvalidArgument},
      {"image larger than the slot", 65 * 4096, 4096, Code::kLimitExceeded},
      {"image not whole sectors", 8 * 4096 + 1, 4096, Code::kBadLength},
  };
  for (const ResumeRow& row : rows) {
    WriterRig rig;
    OtaWriter writer(rig.device.slots(kUser), 0);
    EXPECT_EQ(writer.resume(row.size, row.durable).code(), row.code) << row.name;
    EXPECT_EQ(writer.write({nullptr, 0}).code(), Code::kBadState) << row.name;
  }
}

TEST(OtaWriterResume, FlashCostOfAWholeUpdateIsUnchanged) {
  WriterRig rig;
  const std::vector<uint8_t>& image = signed_image(kUser, "2.0.0", 2);
  rig.counting.reset();
  OtaWriter writer(rig.device.slots(kUser), 0);
  ASSERT_TRUE(writer.begin(static_cast<uint32_t>(image.size())).is_ok());
  ASSERT_TRUE(rig.write(writer, image, 0, image.size()).is_ok());
  ASSERT_TRUE(rig.finish(writer).is_ok());
  // One erase per sector of the image (no 64 KiB block fits in 28 KiB), nothing more.
  EXPECT_EQ(rig.counting.erases, image.size() / 4096);
}

}  // namespace
}  // namespace privota
