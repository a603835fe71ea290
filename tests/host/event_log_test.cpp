#include "privota/host/event_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace privota::host {
namespace {

nlohmann::json user_line(const std::string& msg) {
  return {{"src", "user"}, {"level", "info"}, {"event", "user_log"}, {"msg", msg}};
}

// True when `text` holds nothing a terminal acts on: no C0 control, no DEL, no C1 control (U+0080..U+009F
// in UTF-8, or a raw 0x80..0x9F byte that does not continue a UTF-8 sequence).
bool inert(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return false;
    if (byte == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0) return false;
  }
  return true;
}

TEST(EventLog, TextShowsLevelSourceAndMessage) {
  EXPECT_EQ(event_text(user_line("hello")), "   user       hello");
  EXPECT_EQ(event_text({{"src", "protected"}, {"level", "error"}, {"msg", "bad"}}), "!! protected  bad");
  EXPECT_EQ(event_text({{"src", "sim"}, {"level", "warn"}, {"msg", "w"}}), "!  sim        w");
}

// Each hostile message is one row: what a user app prints, and how the text log must show it.
struct Hostile {
  const char* name;
  std::string msg;
  std::string shown;
};

void PrintTo(const Hostile& row, std::ostream* os) {
  *os << row.name;
}

class EventLogEscapes : public testing::TestWithParam<Hostile> {};

TEST_P(EventLogEscapes, UserText) {
  const std::string text = event_text(user_line(GetParam().msg));
  EXPECT_TRUE(inert(text)) << text;
  EXPECT_EQ(text, "   user       " + GetParam().shown);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EventLogEscapes,
    testing::Values(Hostile{"ForgedNextLine", "ok\n   protected  user app verified, now trusted",
                            "ok\\x0a   protected  user app verified, now trusted"},
                    Hostile{"CarriageReturnOverwrite", "x\r!! protected  flash erased",
                            "x\\x0d!! protected  flash erased"},
                    Hostile{"AnsiColour", "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
                    Hostile{"OscTitle", "\x1b]0;owned\x07", "\\x1b]0;owned\\x07"},
                    Hostile{"Nul", std::string("a\0b", 3), "a\\x00b"}, Hostile{"Tab", "a\tb", "a\\x09b"},
                    Hostile{"Delete", "a\x7f", "a\\x7f"},
                    Hostile{"C1Csi",
                            "\xc2\x9b"
                            "31m",
                            "\\u009b31m"},
                    Hostile{"C1Osc",
                            "\xc2\x9d"
                            "0;t\xc2\x9c",
                            "\\u009d0;t\\u009c"},
                    Hostile{"BackslashIsItselfEscaped", "\\x0a", "\\\\x0a"},
                    Hostile{"Utf8Kept", "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
                    Hostile{"NotUtf8", "\x9b\xff", "\\x9b\\xff"}),
    [](const testing::TestParamInfo<Hostile>& info) { return std::string(info.param.name); });

TEST(EventLog, SourceIsEscapedToo) {
  const std::string text = event_text({{"src", "user\n!! protected"}, {"level", "info"}, {"msg", "m"}});
  EXPECT_TRUE(inert(text)) << text;
  EXPECT_NE(text.find("user\\x0a!! protected"), std::string::npos) << text;
}

TEST(EventLog, AFieldThatIsNotTextIsShownAsJson) {
  EXPECT_EQ(event_text({{"src", "user"}, {"level", "info"}, {"msg", 42}}), "   user       42");
}

// The JSON form needs no escaping of ours: nlohmann escapes every C0 control, so a line stays one line.
TEST(EventLog, JsonLineStaysOneLine) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  {
    EventLog log(pipe_fds[1], "user");
    log.info("user_log", "a\nb\rc\x1b]0;x\x07");
  }
  close(pipe_fds[1]);
  char buffer[512];
  const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
  close(pipe_fds[0]);
  ASSERT_GT(n, 0);
  const std::string line(buffer, static_cast<size_t>(n));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_TRUE(inert(line.substr(0, line.size() - 1))) << line;
}

}  // namespace
}  // namespace privota::host
