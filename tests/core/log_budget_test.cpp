// The user app's log budget: a burst, then a steady rate; what does not fit is dropped and counted.
#include "privota/log_budget.h"

#include <gtest/gtest.h>

namespace privota {
namespace {

constexpr LogBudgetLimits kLimits{1000, 100};  // 1000 bytes at once, then 100 bytes per second

TEST(LogBudget, AllowsTheBurstThenDrops) {
  LogBudget budget(kLimits);
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(budget.take(100, 0)) << i;
  EXPECT_FALSE(budget.take(1, 0));
  EXPECT_FALSE(budget.take(50, 0));
  const LogBudget::Dropped dropped = budget.take_dropped();
  EXPECT_EQ(dropped.lines, 2u);
  EXPECT_EQ(dropped.bytes, 51u);
  EXPECT_EQ(budget.take_dropped().lines, 0u) << "counts restart after they were taken";
}

TEST(LogBudget, RefillsAtItsRate) {
  LogBudget budget(kLimits);
  EXPECT_TRUE(budget.take(1000, 0));
  EXPECT_FALSE(budget.take(100, 500));  // 50 bytes earned
  EXPECT_TRUE(budget.take(100, 1000));  // 100 earned in all
  EXPECT_FALSE(budget.take(1, 1000));
  EXPECT_TRUE(budget.take(1000, 100000)) << "a long pause refills to the burst, no more";
  EXPECT_FALSE(budget.take(1, 100000));
}

TEST(LogBudget, SlowTrickleStillAddsUp) {
  LogBudget budget(kLimits);
  EXPECT_TRUE(budget.take(1000, 0));
  // Every 5 ms earns half a byte: nothing is lost to rounding over a second.
  for (uint64_t t = 5; t < 1000; t += 5)
    (void)budget.take(1000, t);
  EXPECT_TRUE(budget.take(100, 1000));
}

TEST(LogBudget, ALineLongerThanTheBurstPassesAFullBucket) {
  LogBudget budget(kLimits);
  EXPECT_TRUE(budget.take(5000, 0));
  EXPECT_FALSE(budget.take(5000, 1));
}

TEST(LogBudget, AClockThatGoesBackEarnsNothing) {
  LogBudget budget(kLimits);
  EXPECT_TRUE(budget.take(1000, 10000));
  EXPECT_FALSE(budget.take(100, 5000));
  EXPECT_FALSE(budget.take(100, 5500)) << "500 ms after the clock went back earns 50 bytes, not 100";
  EXPECT_TRUE(budget.take(100, 6000));
}

}  // namespace
}  // namespace privota
