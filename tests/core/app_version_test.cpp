#include "privota/app_version.h"

#include <gtest/gtest.h>

namespace privota {
namespace {

struct NewerRow {
  const char* candidate;
  const char* running;
  bool newer;
};

TEST(AppVersion, IsNewerTable) {
  const NewerRow rows[] = {
      {"1.2.10", "1.2.9", true},  // numbers, not text
      {"1.2.9", "1.2.10", false},
      {"2.0", "2.0.0", false},  // missing parts are 0
      {"2.0.1", "2.0", true},
      {"v1.3", "1.2.99", true},  // optional leading v
      {"V2", "v1.9.9", true},
      {"1.0.0-rc2", "1.0.0", false},  // the suffix is ignored
      {"1.0.1+build7", "1.0.0-beta", true},
      {"1.0.0", "1.0.0", false},
      {"0.9", "1.0", false},
      {"10.0.0", "9.99.99", true},
      {"nightly", "nightly", false},  // unparseable: only the identical text is not newer
      {"nightly-2", "nightly", true},
      {"1.0.0", "nightly", true},
      {"1..2", "1.0", true},  // "1..2" does not parse
      {"", "", false},
      {"", "1.0", true},
      {"1.0.", "1.0", true},               // trailing dot does not parse
      {"1.0.0.0.0.0.0.0.1", "1.0", true},  // nine parts: does not parse, differs
      {"9999999999", "1", true},           // ten digits: does not parse
      {"4294967295", "4294967295", false},
  };
  for (const NewerRow& row : rows) {
    EXPECT_EQ(app_version_is_newer(row.candidate, row.running), row.newer)
        << row.candidate << " vs " << row.running;
  }
}

TEST(AppVersion, ParsesPartsAndIgnoresSuffix) {
  AppVersion v;
  const char text[] = "v3.14.159-alpha.2";
  ASSERT_TRUE(parse_app_version({text, sizeof text - 1}, v));
  ASSERT_EQ(v.count, 3u);
  EXPECT_EQ(v.parts[0], 3u);
  EXPECT_EQ(v.parts[1], 14u);
  EXPECT_EQ(v.parts[2], 159u);
}

struct ParseRow {
  const char* text;
  bool parses;
};

TEST(AppVersion, RefusesWhatIsNotAVersion) {
  const ParseRow rows[] = {{"1", true},          {"1.2.3", true}, {"v", false},    {"-1", false},
                           {"1.-2", false},      {"1 .2", false}, {"1.2 ", false}, {"a.b", false},
                           {"1.2.3-", true},     {"+x", false},   {"vv1", false},  {"999999999", true},
                           {"1000000000", false}};
  for (const ParseRow& row : rows) {
    AppVersion v;
    EXPECT_EQ(parse_app_version({row.text, strlen(row.text)}, v), row.parses) << row.text;
  }
}

TEST(AppVersion, CompareTreatsMissingPartsAsZero) {
  AppVersion a, b;
  ASSERT_TRUE(parse_app_version({"2", 1}, a));
  ASSERT_TRUE(parse_app_version({"2.0.0.0", 7}, b));
  EXPECT_EQ(compare_app_versions(a, b), 0);
}

}  // namespace
}  // namespace privota
