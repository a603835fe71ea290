// The one log record of what a boot decision selected, for both levels.
#include "privota/host/selection_record.h"

#include <gtest/gtest.h>

#include <cstring>

namespace privota::host {
namespace {

BootDecision decision(BootOutcome outcome, uint32_t slot) {
  BootDecision d;
  d.outcome = outcome;
  d.slot = slot;
  std::strcpy(d.image.info.desc.project_name, "hello");
  std::strcpy(d.image.info.desc.version, "2.0.0");
  d.image.info.desc.secure_version = 7;
  return d;
}

TEST(SelectionRecord, SaysWhichAppInWhichSlotAndHow) {
  const SelectionRecord user = selection_record(AppLevel::kUser, decision(BootOutcome::kTrial, 1));
  EXPECT_EQ(user.message, "user app hello 2.0.0 in user_1: trial");
  EXPECT_EQ(user.fields["slot"], 1);
  EXPECT_EQ(user.fields["outcome"], "trial");
  EXPECT_EQ(user.fields["project"], "hello");
  EXPECT_EQ(user.fields["version"], "2.0.0");
  EXPECT_EQ(user.fields["secure_version"], 7);
  EXPECT_FALSE(user.fields.contains("rejected_slot"));

  const SelectionRecord prot = selection_record(AppLevel::kProtected, decision(BootOutcome::kNormal, 0));
  EXPECT_EQ(prot.message, "protected app hello 2.0.0 in ota_0: normal");
}

TEST(SelectionRecord, NamesTheSlotGivenUpOnAndWhy) {
  BootDecision d = decision(BootOutcome::kRolledBack, 0);
  d.rejected_slot = 1;
  d.rejected_reason = Status::error(Code::kBadState, "not confirmed before this boot");
  const SelectionRecord r = selection_record(AppLevel::kProtected, d);
  EXPECT_EQ(
      r.message,
      "protected app hello 2.0.0 in ota_0: rolled_back (gave up on ota_1: not confirmed before this boot)");
  EXPECT_EQ(r.fields["rejected_slot"], 1);
  EXPECT_EQ(r.fields["rejected_reason"], "not confirmed before this boot");
}

}  // namespace
}  // namespace privota::host
