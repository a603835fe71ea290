#include "privota/syscall.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "privota/byte_order.h"
#include "test_support.h"

namespace privota::syscall {
namespace {

std::vector<uint8_t> encoded(const Frame& f) {
  std::vector<uint8_t> bytes(kFrameSize);
  EXPECT_TRUE(encode(f, {bytes.data(), bytes.size()}).is_ok());
  return bytes;
}

Frame ota_start(const char* url) {
  Frame f;
  f.call = Call::kOtaStart;
  f.id = 7;
  EXPECT_TRUE(f.set_string(url).is_ok());
  return f;
}

TEST(SyscallFrame, RoundTripsEveryCall) {
  for (uint8_t c = 1; c <= kLastCall; ++c) {
    Frame f;
    f.call = static_cast<Call>(c);
    f.id = 1000u + c;
    if (f.call == Call::kOtaStart || f.call == Call::kLog || f.call == Call::kFleetAnswer) {
      ASSERT_TRUE(f.set_string("https://127.0.0.1/u.bin").is_ok());
    }
    if (f.call == Call::kFleetAnswer) f.values[0] = kFleetDefer;
    if (f.call == Call::kOtaStatus || f.call == Call::kOtaCancel) f.values[0] = 3;
    const std::vector<uint8_t> bytes = encoded(f);
    EXPECT_EQ(load_le16(bytes.data()), kMagic);
    const Result<Frame> back = decode({bytes.data(), bytes.size()}, false);
    ASSERT_TRUE(back.is_ok()) << call_name(f.call) << ": " << back.status().reason();
    EXPECT_EQ(back->call, f.call);
    EXPECT_EQ(back->id, f.id);
    EXPECT_EQ(back->values[0], f.values[0]);
    EXPECT_EQ(back->payload_len, f.payload_len);
    EXPECT_STRNE(call_name(f.call), "unknown");
  }
}

TEST(SyscallFrame, ResponsesCarryStatusAndValues) {
  Frame r;
  r.call = Call::kOtaStatus;
  r.response = true;
  r.status = Code::kBadSignature;
  r.id = 9;
  r.values[0] = 3;
  r.values[1] = 65536;
  r.values[2] = 262144;
  const std::vector<uint8_t> bytes = encoded(r);
  const Result<Frame> back = decode({bytes.data(), bytes.size()}, true);
  ASSERT_TRUE(back.is_ok()) << back.status().reason();
  EXPECT_EQ(back->status, Code::kBadSignature);
  EXPECT_EQ(back->values[2], 262144u);
  EXPECT_EQ(decode({bytes.data(), bytes.size()}, false).status().code(), Code::kInvalidArgument);
}

TEST(SyscallFrame, NeverTruncatesAString) {
  Frame f;
  const std::string longest(kPayloadMax - 1, 'a');
  EXPECT_TRUE(f.set_string(longest.c_str()).is_ok());
  const std::string too_long(kPayloadMax, 'a');
  EXPECT_EQ(f.set_string(too_long.c_str()).code(), Code::kLimitExceeded);
}

struct Hostile {
  const char* name;
  void (*mutate)(std::vector<uint8_t>&);
  Code expected;
};

class SyscallFrameRefuses : public testing::TestWithParam<Hostile> {};

TEST_P(SyscallFrameRefuses, WithItsOwnReason) {
  std::vector<uint8_t> bytes = encoded(ota_start("https://127.0.0.1:8443/user.bin"));
  GetParam().mutate(bytes);
  const Result<Frame> f = decode({bytes.data(), bytes.size()}, false);
  EXPECT_EQ(f.status().code(), GetParam().expected) << f.status().reason();
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, SyscallFrameRefuses,
    testing::Values(
        Hostile{"Short", [](auto& b) { b.resize(100); }, Code::kBadLength},
        Hostile{"Long", [](auto& b) { b.resize(600); }, Code::kBadLength},
        Hostile{"Empty", [](auto& b) { b.clear(); }, Code::kBadLength},
        Hostile{"WrongMagic", [](auto& b) { b[0] = 0; }, Code::kBadMagic},
        Hostile{"FutureVersion", [](auto& b) { b[2] = 2; }, Code::kUnsupported},
        Hostile{"CallZero", [](auto& b) { b[3] = 0; }, Code::kUnsupported},
        Hostile{"UnknownCall", [](auto& b) { b[3] = 99; }, Code::kUnsupported},
        Hostile{"ReservedFlag", [](auto& b) { b[4] = 0x80; }, Code::kInvalidArgument},
        Hostile{"ReservedWord", [](auto& b) { b[29] = 1; }, Code::kInvalidArgument},
        Hostile{"ResponseAsRequest", [](auto& b) { b[4] = kFlagResponse; }, Code::kInvalidArgument},
        Hostile{"StatusInRequest", [](auto& b) { b[5] = 3; }, Code::kInvalidArgument},
        Hostile{"PayloadLengthPastFrame", [](auto& b) { store_le16(&b[6], 481); }, Code::kBadLength},
        Hostile{"NoNul",
                [](auto& b) {
                  store_le16(&b[6], 10);  // the URL's first 10 bytes, without its NUL
                  std::fill(b.begin() + kHeaderSize + 10, b.end(), 0);
                },
                Code::kBadLength},
        Hostile{"EmbeddedNul", [](auto& b) { b[kHeaderSize + 3] = 0; }, Code::kInvalidArgument},
        Hostile{"JunkAfterPayload", [](auto& b) { b[500] = 1; }, Code::kTrailingData},
        Hostile{"EmptyUrl",
                [](auto& b) {
                  store_le16(&b[6], 1);
                  std::fill(b.begin() + kHeaderSize, b.end(), 0);
                },
                Code::kBadLength},
        Hostile{"PayloadOnCallWithout", [](auto& b) { b[3] = static_cast<uint8_t>(Call::kOtaMarkValid); },
                Code::kBadLength},
        Hostile{"LogLevelTooHigh",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kLog);
                  store_le32(&b[12], 9);
                },
                Code::kInvalidArgument},
        Hostile{"AppInfoBadSlot",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kAppInfo);
                  store_le16(&b[6], 0);
                  std::fill(b.begin() + kHeaderSize, b.end(), 0);
                  store_le32(&b[12], 5);
                },
                Code::kInvalidArgument},
        Hostile{"WatchdogPeriodTooShort",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kWatchdogArm);
                  store_le16(&b[6], 0);
                  std::fill(b.begin() + kHeaderSize, b.end(), 0);
                  store_le32(&b[12], kMinWatchdogMs - 1);
                },
                Code::kInvalidArgument},
        Hostile{"WatchdogPeriodTooLong",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kWatchdogArm);
                  store_le16(&b[6], 0);
                  std::fill(b.begin() + kHeaderSize, b.end(), 0);
                  store_le32(&b[12], kMaxWatchdogMs + 1);
                },
                Code::kInvalidArgument},
        Hostile{"FleetAnswerNeitherAcceptNorDefer",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kFleetAnswer);
                  store_le32(&b[12], 3);
                },
                Code::kInvalidArgument},
        Hostile{"FleetAnswerWithoutJobId",
                [](auto& b) {
                  b[3] = static_cast<uint8_t>(Call::kFleetAnswer);
                  store_le32(&b[12], kFleetAccept);
                  store_le16(&b[6], 0);
                  std::fill(b.begin() + kHeaderSize, b.end(), 0);
                },
                Code::kBadLength},
        Hostile{"FleetOfferWithPayload", [](auto& b) { b[3] = static_cast<uint8_t>(Call::kFleetOffer); },
                Code::kBadLength}),
    [](const auto& info) { return info.param.name; });

TEST(SyscallFrame, SurvivesRandomBytes) {
  std::mt19937 random(31337);
  std::vector<uint8_t> bytes(kFrameSize);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    for (auto& b : bytes)
      b = static_cast<uint8_t>(random());
    if (round % 2 == 0) {  // get past the magic and version so the deeper checks run on random fields
      store_le16(bytes.data(), kMagic);
      bytes[2] = kAbiVersion;
      bytes[3] = static_cast<uint8_t>(1 + random() % kLastCall);
      bytes[4] = 0;
      bytes[5] = 0;
      std::fill(bytes.begin() + 28, bytes.begin() + 32, 0);
      const uint16_t len = static_cast<uint16_t>(random() % 8);
      store_le16(&bytes[6], len);
      std::fill(bytes.begin() + kHeaderSize + len, bytes.end(), 0);
    }
    const Result<Frame> f = decode({bytes.data(), bytes.size()}, false);
    if (f.is_ok()) {
      ++accepted;
      EXPECT_LE(f->payload_len, kPayloadMax);
    }
  }
  EXPECT_GT(accepted, 0);  // the loop does reach frames that pass, so the checks above are exercised
}

}  // namespace
}  // namespace privota::syscall
