#include "privota/url_policy.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_support.h"

namespace privota {
namespace {

Span<const char> text(const std::string& s) {
  return {s.data(), s.size()};
}
std::string str(Span<const char> s) {
  return {s.data(), s.size()};
}

const char* const kHosts[] = {"updates.example.com", "*.cdn.example.net", "127.0.0.1", "[::1]"};
const uint16_t kPorts[] = {443, 8443};

UrlPolicy policy() {
  UrlPolicy p;
  p.allowed_hosts = kHosts;
  p.allowed_ports = kPorts;
  return p;
}

TEST(UrlPolicy, ParsesTheParts) {
  const std::string url = "https://Updates.Example.com:8443/fw/user.bin?v=2&ch=stable";
  const Result<Url> u = check_url(text(url), policy());
  ASSERT_TRUE(u.is_ok()) << u.status().reason();
  EXPECT_EQ(u->scheme, UrlScheme::kHttps);
  EXPECT_EQ(str(u->host), "Updates.Example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_TRUE(u->explicit_port);
  EXPECT_EQ(str(u->path), "/fw/user.bin");
  EXPECT_EQ(str(u->query), "v=2&ch=stable");
}

TEST(UrlPolicy, DefaultsPortAndPath) {
  const std::string url = "https://updates.example.com";
  const Result<Url> u = check_url(text(url), policy());
  ASSERT_TRUE(u.is_ok()) << u.status().reason();
  EXPECT_EQ(u->port, 443);
  EXPECT_FALSE(u->explicit_port);
  EXPECT_EQ(str(u->path), "/");
}

TEST(UrlPolicy, AcceptsIpLiteralsAndWildcards) {
  for (const char* good :
       {"https://127.0.0.1:8443/u.bin", "https://[::1]:8443/u.bin", "https://a.cdn.example.net/x",
        "https://b.a.cdn.example.net/x", "https://updates.example.com/%41%2fb"}) {
    const Result<Url> u = check_url(text(good), policy());
    EXPECT_TRUE(u.is_ok()) << good << ": " << u.status().reason();
  }
  const std::string v6 = "https://[::1]:8443/u.bin";
  EXPECT_TRUE(check_url(text(v6), policy())->ipv6);
  EXPECT_EQ(str(check_url(text(v6), policy())->host), "::1");
}

TEST(UrlPolicy, ParsesIpv6Forms) {
  for (const char* good :
       {"https://[2001:db8::1]/", "https://[1:2:3:4:5:6:7:8]/", "https://[::]/", "https://[fe80::]/"}) {
    EXPECT_TRUE(parse_url(text(good)).is_ok()) << good;
  }
  for (const char* bad :
       {"https://[1:2:3:4:5:6:7:8:9]/", "https://[1::2::3]/", "https://[12345::]/", "https://[:::]/",
        "https://[1:2:3:4:5:6:7]/", "https://[::ffff:1.2.3.4]/", "https://[fe80::1%25eth0]/", "https://[::1/",
        "https://[::1]x/", "https://[g::1]/"}) {
    EXPECT_EQ(parse_url(text(bad)).status().code(), Code::kUrlMalformed) << bad;
  }
}

struct Refusal {
  const char* name;
  std::string url;
  Code expected;
};

class UrlPolicyJudges : public testing::TestWithParam<Refusal> {};

TEST_P(UrlPolicyJudges, AcceptsOrRefusesWithItsOwnCode) {
  const Result<Url> u = check_url(text(GetParam().url), policy());
  EXPECT_EQ(u.status().code(), GetParam().expected) << u.status().reason();
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, UrlPolicyJudges,
    testing::Values(
        Refusal{"Http", "http://updates.example.com/u.bin", Code::kUrlSchemeNotAllowed},
        Refusal{"Ftp", "ftp://updates.example.com/u.bin", Code::kUrlSchemeNotAllowed},
        Refusal{"FileScheme", "file:///etc/passwd", Code::kUrlSchemeNotAllowed},
        Refusal{"NoScheme", "updates.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"OneSlash", "https:/updates.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"Empty", "", Code::kUrlMalformed},
        Refusal{"EmptyHost", "https:///u.bin", Code::kUrlMalformed},
        Refusal{"OtherHost", "https://evil.example.org/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"SuffixTrick", "https://updates.example.com.evil.org/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"WildcardBareSuffix", "https://cdn.example.net/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"WildcardLookalike", "https://evilcdn.example.net/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"OtherIpv6", "https://[::2]:8443/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"Userinfo", "https://user:pw@updates.example.com/u.bin", Code::kUrlUserinfo},
        Refusal{"UserinfoHidingHost", "https://updates.example.com@evil.org/u.bin", Code::kUrlUserinfo},
        Refusal{"Port", "https://updates.example.com:9999/u.bin", Code::kUrlPortNotAllowed},
        Refusal{"PortZero", "https://updates.example.com:0/u.bin", Code::kUrlMalformed},
        Refusal{"PortTooBig", "https://updates.example.com:65536/u.bin", Code::kUrlMalformed},
        Refusal{"PortLeadingZero", "https://updates.example.com:0443/u.bin", Code::kUrlMalformed},
        Refusal{"PortNotNumber", "https://updates.example.com:https/u.bin", Code::kUrlMalformed},
        Refusal{"EmptyPort", "https://updates.example.com:/u.bin", Code::kUrlMalformed},
        Refusal{"Space", "https://updates.example.com/u .bin", Code::kUrlBadCharacter},
        Refusal{"Newline", "https://updates.example.com/u.bin\r\nHost: evil", Code::kUrlBadCharacter},
        Refusal{"Nul", std::string("https://updates.example.com/u.bin\0x", 36), Code::kUrlBadCharacter},
        Refusal{"NonAscii", "https://updates.example.com/\xc3\xa9", Code::kUrlBadCharacter},
        Refusal{"BadEscape", "https://updates.example.com/%zz", Code::kUrlBadCharacter},
        Refusal{"ShortEscape", "https://updates.example.com/%4", Code::kUrlBadCharacter},
        Refusal{"Backslash", "https://updates.example.com/a\\b", Code::kUrlBadCharacter},
        Refusal{"EscapedHost", "https://updates%2eexample.com/u.bin", Code::kUrlMalformed},
        Refusal{"Fragment", "https://updates.example.com/u.bin#x", Code::kUrlMalformed},
        Refusal{"HostLabelDash", "https://-updates.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"HostTrailingDot", "https://updates.example.com./u.bin", Code::kUrlMalformed},
        Refusal{"HostUnderscore", "https://up_dates.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"TooLongForPolicy", "https://updates.example.com/" + std::string(300, 'a'),
                Code::kUrlTooLong}),
    [](const auto& info) { return info.param.name; });

// The same judge, for URLs it must accept (kOk) and more it must refuse: with the table above, every rule of
// the policy has rows on both sides of its line.
INSTANTIATE_TEST_SUITE_P(
    Table, UrlPolicyJudges,
    testing::Values(
        Refusal{"PlainHost", "https://updates.example.com/u.bin", Code::kOk},
        Refusal{"UpperCaseHost", "https://UPDATES.EXAMPLE.COM/u.bin", Code::kOk},
        Refusal{"UpperCaseScheme", "HTTPS://updates.example.com/u.bin", Code::kOk},
        Refusal{"ExplicitDefaultPort", "https://updates.example.com:443/u.bin", Code::kOk},
        Refusal{"OtherAllowedPort", "https://updates.example.com:8443/u.bin", Code::kOk},
        Refusal{"NoPath", "https://updates.example.com", Code::kOk},
        Refusal{"RootPath", "https://updates.example.com/", Code::kOk},
        Refusal{"DeepPath", "https://updates.example.com/a/b/c/d/user-2.0.0.bin", Code::kOk},
        Refusal{"Query", "https://updates.example.com/u.bin?channel=beta&v=2", Code::kOk},
        Refusal{"EmptyQuery", "https://updates.example.com/u.bin?", Code::kOk},
        Refusal{"QueryWithoutPath", "https://updates.example.com?x=1", Code::kOk},
        Refusal{"EscapedPath", "https://updates.example.com/a%20b.bin", Code::kOk},
        Refusal{"UnreservedCharacters", "https://updates.example.com/a-b_c.d~e", Code::kOk},
        Refusal{"SubDelimsInPath", "https://updates.example.com/a;b=c,d!e", Code::kOk},
        Refusal{"WildcardOneLevel", "https://eu.cdn.example.net/u.bin", Code::kOk},
        Refusal{"WildcardDeep", "https://a.b.eu.cdn.example.net/u.bin", Code::kOk},
        Refusal{"Ipv4Literal", "https://127.0.0.1/u.bin", Code::kOk},
        Refusal{"Ipv4LiteralAllowedPort", "https://127.0.0.1:8443/u.bin", Code::kOk},
        Refusal{"Ipv6Loopback", "https://[::1]/u.bin", Code::kOk},
        Refusal{"Ipv6LoopbackLongForm", "https://[0:0:0:0:0:0:0:1]/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"OtherIpv4", "https://127.0.0.2/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"Ipv4WithLeadingZeros", "https://127.000.000.001/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"NumericHostForm", "https://2130706433/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"ParentOfAllowedHost", "https://example.com/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"ChildOfExactHost", "https://a.updates.example.com/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"WildcardSuffixAsLabel", "https://cdn.example.net.evil.org/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"Localhost", "https://localhost/u.bin", Code::kUrlHostNotAllowed},
        Refusal{"PortOnIpv6", "https://[::1]:9443/u.bin", Code::kUrlPortNotAllowed},
        Refusal{"PortOnIpv4", "https://127.0.0.1:80/u.bin", Code::kUrlPortNotAllowed},
        Refusal{"PortSign", "https://updates.example.com:+443/u.bin", Code::kUrlMalformed},
        Refusal{"PortSpace", "https://updates.example.com: 443/u.bin", Code::kUrlBadCharacter},
        Refusal{"Tab", "https://updates.example.com/u\t.bin", Code::kUrlBadCharacter},
        Refusal{"Delete", "https://updates.example.com/u\x7f.bin", Code::kUrlBadCharacter},
        Refusal{"LeadingSpace", " https://updates.example.com/u.bin", Code::kUrlBadCharacter},
        Refusal{"TrailingNewline", "https://updates.example.com/u.bin\n", Code::kUrlBadCharacter},
        Refusal{"EscapeAtEnd", "https://updates.example.com/u.bin%", Code::kUrlBadCharacter},
        Refusal{"JavascriptScheme", "javascript:alert(1)", Code::kUrlMalformed},
        Refusal{"DataScheme", "data:text/plain,hi", Code::kUrlMalformed},
        Refusal{"SchemeOnly", "https://", Code::kUrlMalformed},
        Refusal{"ThreeSlashes", "https:///updates.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"AtInPath", "https://updates.example.com/a@b", Code::kOk},
        Refusal{"EmptyUserinfo", "https://@updates.example.com/u.bin", Code::kUrlUserinfo},
        Refusal{"EmptyLabel", "https://updates..example.com/u.bin", Code::kUrlMalformed},
        Refusal{"LabelTrailingDash", "https://updates-.example.com/u.bin", Code::kUrlMalformed},
        Refusal{"Ipv6WithoutBrackets", "https://::1/u.bin", Code::kUrlMalformed},
        Refusal{"ExactlyAtTheLimit", "https://updates.example.com/" + std::string(256 - 28, 'a'), Code::kOk},
        Refusal{"OneOverTheLimit", "https://updates.example.com/" + std::string(256 - 27, 'a'),
                Code::kUrlTooLong}),
    [](const auto& info) { return info.param.name; });

TEST(UrlPolicy, NeverTruncatesALongUrl) {
  // Exactly the limit passes; one more is refused (not cut to fit, as ESP-PrivSep's 150-byte buffer did).
  UrlPolicy p = policy();
  std::string url = "https://updates.example.com/";
  url += std::string(p.max_length - url.size(), 'a');
  EXPECT_TRUE(check_url(text(url), p).is_ok());
  url += "a";
  EXPECT_EQ(check_url(text(url), p).status().code(), Code::kUrlTooLong);
  EXPECT_EQ(parse_url(text(std::string(kMaxUrlLength + 1, 'a'))).status().code(), Code::kUrlTooLong);
}

TEST(UrlPolicy, AnEmptyAllowListAllowsNothing) {
  UrlPolicy p;
  const std::string url = "https://updates.example.com/u.bin";
  EXPECT_EQ(check_url(text(url), p).status().code(), Code::kUrlHostNotAllowed);
}

TEST(UrlPolicy, WithoutAPortListOnlyTheDefaultPortIsAllowed) {
  UrlPolicy p = policy();
  p.allowed_ports = {};
  const std::string standard = "https://updates.example.com:443/u.bin";
  const std::string other = "https://updates.example.com:8443/u.bin";
  EXPECT_TRUE(check_url(text(standard), p).is_ok());
  EXPECT_EQ(check_url(text(other), p).status().code(), Code::kUrlPortNotAllowed);
  p.allow_http = true;
  const std::string http = "http://updates.example.com/u.bin";
  EXPECT_TRUE(check_url(text(http), p).is_ok());
}

TEST(UrlPolicy, SurvivesRandomText) {
  std::mt19937 random(8080);
  const std::string alphabet = "htps:/[]@%?#.:-_0123456789abcdefABCDEF:xX \t\x01\x7f";
  for (int round = 0; round < 20000; ++round) {
    std::string url = round % 2 == 0 ? "https://" : "";
    const size_t n = random() % 60;
    for (size_t i = 0; i < n; ++i)
      url += alphabet[random() % alphabet.size()];
    const Result<Url> u = check_url(text(url), policy());
    if (u.is_ok()) {
      EXPECT_LE(u->host.size(), url.size());
      EXPECT_EQ(u->path[0], '/');
    }
  }
}

// allowed_hosts entries: what UrlPolicy can match is accepted, anything else (which would never match) is
// not.
TEST(UrlPolicy, ChecksAllowedHostPatterns) {
  for (const char* good :
       {"updates.example.com", "127.0.0.1", "*.example.com", "*.com", "[::1]", "localhost"})
    EXPECT_TRUE(check_host_pattern(text(good)).is_ok()) << good;
  for (const char* bad :
       {"", "bad host!", "https://a.example/", "a.example:443", "a.example/path", "*.", "*", "*example.com",
        "[::1", "[nonsense]", "-a.example", "a..example", "user@a.example"}) {
    const Status s = check_host_pattern(text(bad));
    EXPECT_EQ(s.code(), Code::kUrlMalformed) << bad;
  }
}

}  // namespace
}  // namespace privota
