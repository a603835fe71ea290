// Exhaustive power-cut test, in the spirit of MCUboot's simulator: every flow that writes flash is run once
// to count its writes N; then for every k in 1..N the power is cut during write k (the write left half done),
// the device reboots through select_boot_slot, and we check that
//   - an app that fully verifies is chosen, and it is the old or the new image (never a mix),
//   - no entry says VALID for a slot that does not verify,
//   - running the flow again from there succeeds.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "device_fixture.h"
#include "privota/host/power_cut_flash.h"

namespace privota {
namespace {

using test::Device;
using test::signed_image;

struct Flow {
  const char* name;
  AppLevel level;
  std::function<void(Device&)> setup;                         // the state before the flow
  std::function<Status(Device&)> run;                         // the flow itself (all its writes)
  std::vector<const char*> allowed;                           // versions a reboot may choose after a cut
  std::function<Status(Device&, const BootDecision&)> again;  // the flow again, from the rebooted state
};

std::vector<uint8_t> digest_of(Device& d, AppLevel level, const std::vector<uint8_t>& image) {
  host::MemoryFlash scratch_flash(image);
  (void)d;
  host::MbedSha256 sha;
  host::MbedSignatureVerifier verifier;
  uint8_t scratch[kSignatureSectorSize];
  TrustPolicy p = d.policy(level);
  const Result<SignedImage> v =
      verify_signed_image(scratch_flash, p, sha, verifier, {scratch, sizeof scratch});
  EXPECT_TRUE(v.is_ok()) << v.status().reason();
  return {v->signed_digest, v->signed_digest + 32};
}

void check_no_unverified_valid_entry(Device& d, AppLevel level, const std::string& where) {
  const OtaDataView view = d.view(level);
  for (size_t i = 0; i < kOtaDataSectors; ++i) {
    const OtaSelectEntry& e = view.entries[i];
    if (!e.valid() || e.ota_state != static_cast<uint32_t>(OtaState::kValid)) continue;
    const uint32_t slot = e.slot(2);
    EXPECT_TRUE(d.verify(level, slot).is_ok())
        << where << ": sector " << i << " says VALID for slot " << slot;
  }
}

void run_exhaustively(const Flow& flow) {
  Device base;
  flow.setup(base);
  const std::vector<uint8_t> start = base.flash().cells();

  Device counted(start);
  host::PowerCutFlash counter(counted.flash(), 0);
  counted.attach(counter);
  ASSERT_TRUE(flow.run(counted).is_ok()) << flow.name << " does not complete without a power cut";
  const uint64_t writes = counter.writes();
  ASSERT_GT(writes, 0u);

  std::vector<std::vector<uint8_t>> allowed_digests;
  for (const char* version : flow.allowed) {
    const uint32_t sv = static_cast<uint32_t>(version[0] - '0');
    allowed_digests.push_back(digest_of(base, flow.level, signed_image(flow.level, version, sv)));
  }

  for (uint64_t k = 1; k <= writes; ++k) {
    const std::string where = std::string(flow.name) + ", cut at write " + std::to_string(k);
    Device d(start);
    host::PowerCutFlash cut(d.flash(), k, k * 7919);
    d.attach(cut);
    ASSERT_EQ(flow.run(d).code(), Code::kPowerLost) << where;
    d.attach(d.flash());  // power is back: the bare flash, as the cut left it

    const Result<BootDecision> boot = d.boot(flow.level);
    ASSERT_TRUE(boot.is_ok()) << where << ": " << boot.status().reason();
    const std::vector<uint8_t> chosen(boot->image.signed_digest, boot->image.signed_digest + 32);
    EXPECT_NE(std::find(allowed_digests.begin(), allowed_digests.end(), chosen), allowed_digests.end())
        << where << ": booted " << boot->image.info.desc.version;
    check_no_unverified_valid_entry(d, flow.level, where);
    const Status again = flow.again(d, boot.value());
    EXPECT_TRUE(again.is_ok()) << where << ": flow again: " << again.reason();
    if (testing::Test::HasFailure()) return;
  }
  std::printf("power-cut: %-32s %3llu writes, %3llu cut points, all recovered\n", flow.name,
              static_cast<unsigned long long>(writes), static_cast<unsigned long long>(writes));
}

Flow update_flow(AppLevel level, const char* name) {
  return {name,
          level,
          [level](Device& d) { d.install(level, 0, signed_image(level, "1.0.0", 1)); },
          [level](Device& d) { return d.update(level, 0, signed_image(level, "2.0.0", 2)); },
          {"1.0.0", "2.0.0"},
          [level](Device& d, const BootDecision& boot) -> Status {
            // Running the old app: update again. Running the new one on trial: the update already happened.
            if (std::string(boot.image.info.desc.version) == "1.0.0") {
              PRIVOTA_TRY(d.update(level, boot.slot, signed_image(level, "2.0.0", 2)));
              PRIVOTA_ASSIGN_OR_RETURN(const BootDecision trial, d.boot(level));
              if (trial.outcome != BootOutcome::kTrial)
                return Status::error(Code::kBadState, "new app not on trial");
              return mark_app_valid(d.slots(level), trial.slot, 2);
            }
            return mark_app_valid(d.slots(level), boot.slot, 2);
          }};
}

TEST(PowerCut, UserAppUpdate) {
  run_exhaustively(update_flow(AppLevel::kUser, "user-app update"));
}

TEST(PowerCut, ProtectedAppUpdate) {
  run_exhaustively(update_flow(AppLevel::kProtected, "protected-app update"));
}

TEST(PowerCut, FirstBootAndMarkValid) {
  const AppLevel level = AppLevel::kUser;
  run_exhaustively({"first boot + mark valid",
                    level,
                    [level](Device& d) {
                      d.install(level, 0, signed_image(level, "1.0.0", 1));
                      ASSERT_TRUE(d.update(level, 0, signed_image(level, "2.0.0", 2)).is_ok());
                    },
                    [level](Device& d) -> Status {
                      PRIVOTA_ASSIGN_OR_RETURN(const BootDecision boot, d.boot(level));
                      return mark_app_valid(d.slots(level), boot.slot, boot.image.info.desc.secure_version);
                    },
                    {"1.0.0", "2.0.0"},
                    [level](Device& d, const BootDecision& boot) {
                      return mark_app_valid(d.slots(level), boot.slot, boot.image.info.desc.secure_version);
                    }});
}

TEST(PowerCut, RollbackAfterAFailedTrial) {
  const AppLevel level = AppLevel::kProtected;
  run_exhaustively({"rollback after failed trial",
                    level,
                    [level](Device& d) {
                      d.install(level, 0, signed_image(level, "1.0.0", 1));
                      ASSERT_TRUE(d.update(level, 0, signed_image(level, "2.0.0", 2)).is_ok());
                      // The trial that never confirms: every one of its boots used up.
                      for (uint32_t i = 0; i < kDefaultTrialBoots; ++i)
                        ASSERT_EQ(d.boot(level)->outcome, BootOutcome::kTrial);
                    },
                    [level](Device& d) { return d.boot(level).status(); },
                    {"1.0.0"},
                    [level](Device& d, const BootDecision& boot) {
                      return mark_app_valid(d.slots(level), boot.slot, boot.image.info.desc.secure_version);
                    }});
}

// Issue 12 item 16: losing power is no evidence against a trial app. A cut at every write of a trial (the
// boot that starts it, the confirmation) costs at most one more trial boot, never the image: the reboot
// boots the new image again, on trial, and it confirms.
void trial_survives_every_cut(AppLevel level, const char* name) {
  Device base;
  base.install(level, 0, signed_image(level, "1.0.0", 1));
  ASSERT_TRUE(base.update(level, 0, signed_image(level, "2.0.0", 2)).is_ok());
  const std::vector<uint8_t> start = base.flash().cells();
  const auto trial = [level](Device& d) -> Status {
    PRIVOTA_ASSIGN_OR_RETURN(const BootDecision boot, d.boot(level));
    if (boot.outcome != BootOutcome::kTrial) return Status::error(Code::kBadState, "not on trial");
    return mark_app_valid(d.slots(level), boot.slot, boot.image.info.desc.secure_version);
  };
  Device counted(start);
  host::PowerCutFlash counter(counted.flash(), 0);
  counted.attach(counter);
  ASSERT_TRUE(trial(counted).is_ok());
  const uint64_t writes = counter.writes();
  for (uint64_t k = 1; k <= writes; ++k) {
    const std::string where = std::string(name) + ", cut at write " + std::to_string(k);
    Device d(start);
    host::PowerCutFlash cut(d.flash(), k, k * 7919);
    d.attach(cut);
    ASSERT_EQ(trial(d).code(), Code::kPowerLost) << where;
    d.attach(d.flash());
    const Result<BootDecision> boot = d.boot(level);
    ASSERT_TRUE(boot.is_ok()) << where << ": " << boot.status().reason();
    EXPECT_EQ(boot->outcome, BootOutcome::kTrial) << where << ": " << boot_outcome_name(boot->outcome);
    EXPECT_STREQ(boot->image.info.desc.version, "2.0.0") << where;
    EXPECT_LE(boot->trial_boot, 2u) << where;  // at most one more trial boot
    EXPECT_TRUE(mark_app_valid(d.slots(level), boot->slot, 2).is_ok()) << where;
    EXPECT_EQ(d.boot(level)->outcome, BootOutcome::kNormal) << where;
    if (testing::Test::HasFailure()) return;
  }
  std::printf("power-cut: %-32s %3llu writes, every cut kept the image on trial\n", name,
              static_cast<unsigned long long>(writes));
}

TEST(PowerCut, TrialSurvivesACutAtEveryWriteUserLevel) {
  trial_survives_every_cut(AppLevel::kUser, "user trial + confirm");
}

TEST(PowerCut, TrialSurvivesACutAtEveryWriteProtectedLevel) {
  trial_survives_every_cut(AppLevel::kProtected, "protected trial + confirm");
}

TEST(PowerCut, AntiRollbackRaise) {
  const AppLevel level = AppLevel::kUser;
  run_exhaustively({"anti-rollback raise",
                    level,
                    [level](Device& d) {
                      d.install(level, 0, signed_image(level, "1.0.0", 1));
                      ASSERT_TRUE(mark_app_valid(d.slots(level), 0, 1).is_ok());
                      ASSERT_TRUE(d.update(level, 0, signed_image(level, "3.0.0", 3)).is_ok());
                      ASSERT_EQ(d.boot(level)->outcome, BootOutcome::kTrial);
                    },
                    [level](Device& d) -> Status {
                      PRIVOTA_TRY(mark_app_valid(d.slots(level), 1, 3));
                      return d.floor(level) == 3 ? Status::ok()
                                                 : Status::error(Code::kBadState, "floor not raised");
                    },
                    {"1.0.0", "3.0.0"},
                    [level](Device& d, const BootDecision& boot) -> Status {
                      const uint32_t floor = d.floor(level);
                      if (floor != 1 && floor != 3)
                        return Status::error(Code::kRollback, "floor went elsewhere", floor);
                      return mark_app_valid(d.slots(level), boot.slot, boot.image.info.desc.secure_version);
                    }});
}

}  // namespace
}  // namespace privota
