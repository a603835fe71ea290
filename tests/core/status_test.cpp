#include "privota/result.h"
#include "privota/span.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include <set>
#include <string>

namespace privota {
namespace {

Result<int> half(int value) {
  if (value % 2 != 0) return Status::error(Code::kInvalidArgument, "odd", static_cast<uint32_t>(value));
  return value / 2;
}

Status quarter(int value, int& out) {
  PRIVOTA_ASSIGN_OR_RETURN(const int h, half(value));
  PRIVOTA_ASSIGN_OR_RETURN(out, half(h));
  return Status::ok();
}

TEST(Status, CarriesCodeReasonAndDetail) {
  const Status s = Status::error(Code::kOverlap, "partition overlaps", 3);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kOverlap);
  EXPECT_STREQ(s.reason(), "partition overlaps");
  EXPECT_EQ(s.detail(), 3u);
  EXPECT_STREQ(Status::ok().reason(), "ok");
}

TEST(Status, EveryCodeHasADistinctName) {
  std::set<std::string> names;
  for (int c = 0; c <= static_cast<int>(kLastCode); ++c) {
    const std::string name = code_name(static_cast<Code>(c));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(Result, PropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(quarter(8, out).is_ok());
  EXPECT_EQ(out, 2);
  const Status s = quarter(6, out);  // 6 / 2 = 3 is odd
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.detail(), 3u);
}

TEST(Result, FromOkStatusIsAnError) {
  const Result<int> r = Status::ok();
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kBadState);
}

TEST(Span, SubspansNeverReachPastTheEnd) {
  uint8_t bytes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const ByteSpan s(bytes);
  EXPECT_EQ(s.size(), 8u);
  EXPECT_EQ(s.first(20).size(), 8u);
  EXPECT_EQ(s.subspan(6).size(), 2u);
  EXPECT_EQ(s.subspan(6)[0], 6);
  EXPECT_EQ(s.subspan(9).size(), 0u);
  EXPECT_EQ(s.subspan(2, 100).size(), 6u);
  const ConstByteSpan c = s;
  EXPECT_EQ(c.data(), bytes);
}

}  // namespace
}  // namespace privota
