// Rollout waves and the failure-rate limit, as `privota fleet rollout` reads them.
#include <gtest/gtest.h>

#include "fleet_waves.h"
#include "tool_error.h"

namespace privota::test {
namespace {

TEST(FleetWaves, AssignsCumulativePercentagesRoundingUpAndSkippingEmptyWaves) {
  const struct {
    std::vector<double> waves;
    size_t count;
    std::vector<int> expected;
  } cases[] = {
      {{5, 100}, 20, {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
      {{50, 100}, 4, {0, 0, 1, 1}},
      {{1, 10, 50, 100}, 3, {0, 1, 2}},  // 1% and 10% of 3 both round up to 1: one wave
      {{10, 20, 100}, 2, {0, 1}},        // 10% and 20% of 2 are both 1 device
      {{100}, 3, {0, 0, 0}},
      {{1, 100}, 0, {}},
  };
  for (const auto& c : cases)
    EXPECT_EQ(tools::assign_waves(c.waves, c.count), c.expected) << c.count;
}

TEST(FleetWaves, ParsesWavesAndRates) {
  EXPECT_EQ(tools::parse_waves("1%,10%,50%,100%"), (std::vector<double>{1, 10, 50, 100}));
  EXPECT_EQ(tools::parse_waves("2.5%,100%"), (std::vector<double>{2.5, 100}));
  EXPECT_DOUBLE_EQ(tools::parse_failure_rate("20%"), 0.2);
  EXPECT_DOUBLE_EQ(tools::parse_failure_rate("0.2"), 0.2);
  EXPECT_DOUBLE_EQ(tools::parse_failure_rate("0"), 0);
  for (const char* bad : {"", "100", "50%,50%,100%", "0%,100%", "10%,", "x%,100%", "50%", "100%,110%"})
    EXPECT_THROW(tools::parse_waves(bad), tools::ToolError) << bad;
  for (const char* bad : {"", "-1%", "101%", "1.5", "ten", "20%%"})
    EXPECT_THROW(tools::parse_failure_rate(bad), tools::ToolError) << bad;
}

}  // namespace
}  // namespace privota::test
