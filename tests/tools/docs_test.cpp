// Issue 16, item 9: every `privota ...` command shown in a ```sh block of README.md and docs/*.md runs, in
// the order shown, in a fresh directory per block. Files a block uses but does not make (keys, a CA, images,
// a table) are made first the way the docs make them; `a|b` alternatives run once each; placeholders get
// values (FILE, NAME, HEX). `openssl` lines run too (docs/signing.md's HSM stand-in). Lines that start
// privota-sim need the device, fleet lines that talk to the broker need one: both are listed as skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>

#include "test_elf.h"
#include "test_support.h"

namespace privota {
namespace {

namespace fs = std::filesystem;

struct DocCommand {
  std::string where;  // file:line
  std::string line;
};

// The shell lines of each ```sh block, continuation lines joined and comments dropped.
std::vector<std::vector<DocCommand>> sh_blocks(const fs::path& file) {
  std::vector<std::vector<DocCommand>> blocks;
  std::ifstream in(file);
  std::string text, pending;
  bool inside = false;
  int number = 0, start = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.rfind("```", 0) == 0) {
      inside = !inside && text == "```sh";
      if (inside) blocks.emplace_back();
      continue;
    }
    if (!inside) continue;
    const size_t hash = text.find(" #");
    if (text.rfind("#", 0) == 0) continue;
    if (hash != std::string::npos) text.erase(hash);
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    if (pending.empty()) start = number;
    if (!text.empty() && text.back() == '\\') {
      text.pop_back();
      pending += text + " ";
      continue;
    }
    pending += text;
    if (!pending.empty())
      blocks.back().push_back({file.filename().string() + ":" + std::to_string(start), pending});
    pending.clear();
  }
  return blocks;
}

// "privota flash boot|confirm x" -> one line per alternative (the first token with '|').
std::vector<std::string> expand_alternatives(const std::string& line) {
  static const std::regex alternatives(R"((^|\s)([^\s|]+(\|[^\s|]+)+)(\s|$))");
  std::smatch m;
  if (!std::regex_search(line, m, alternatives)) return {line};
  std::vector<std::string> out;
  std::stringstream parts(m[2].str());
  for (std::string part; std::getline(parts, part, '|');) {
    for (const std::string& more :
         expand_alternatives(m.prefix().str() + m[1].str() + part + m[4].str() + m.suffix().str()))
      out.push_back(more);
  }
  return out;
}

class DocsCommands : public testing::Test {
 protected:
  std::string cli_dir() const { return fs::path(PRIVOTA_CLI).parent_path().string(); }

  test::CommandResult sh(const fs::path& dir, const std::string& line) {
    return test::run_command("cd '" + dir.string() + "' && export PATH='" + cli_dir() + "':\"$PATH\" && " +
                             line);
  }
  void must(const fs::path& dir, const std::string& line) {
    const test::CommandResult r = sh(dir, line);
    ASSERT_EQ(r.exit_code, 0) << "setup: " << line << "\n" << r.out;
  }

  // How to make each input the docs use without making it first.
  void make(const fs::path& dir, const std::string& name) {
    if (fs::exists(dir / name)) return;
    const std::string source = PRIVOTA_SOURCE_DIR;
    const std::map<std::string, std::function<void()>> recipes = {
        {"table.csv", [&] { fs::copy_file(source + "/examples/device/partitions.csv", dir / name); }},
        {"examples/device/partitions.csv",
         [&] {
           fs::create_directories(dir / "examples/device");
           fs::copy_file(source + "/examples/device/partitions.csv", dir / name);
         }},
        {"table.bin",
         [&] { make(dir, "table.csv"), must(dir, "privota partition gen table.csv -o table.bin"); }},
        {"FILE", [&] { test::write_text(dir / name, std::string(4000, 'f')); }},
        {"firmware.elf",
         [&] {
           const test::TestElf elf;
           test::write_text(dir / name, std::string(elf.bytes.begin(), elf.bytes.end()));
         }},
        {"app", [&] { test::write_text(dir / name, std::string(4000, 'a')); }},
        {"protected", [&] { test::write_text(dir / name, std::string(4000, 'p')); }},
        {"owner.pem", [&] { must(dir, "privota key gen --type rsa3072 -o owner.pem"); }},
        {"dev.pem", [&] { must(dir, "privota key gen --type rsa3072 -o dev.pem"); }},
        {"ca", [&] { must(dir, "privota ca new -o ca"); }},
        {"dev_uac.pem",
         [&] {
           make(dir, "ca"), make(dir, "dev.pem"),
               must(dir, "privota ca issue --ca ca --key dev.pem -o dev_uac.pem");
         }},
        {"tls/ca.pem",
         [&] {
           fs::create_directories(dir / "tls");
           fs::copy_file(test::test_data("signature/ca_cert.pem"), dir / name);
         }},
        {"app.bin", [&] { build(dir, "app.bin", "1.2.0", 3); }},
        {"p.bin", [&] { build(dir, "p.bin", "2.0.0", 2); }},
        {"u.bin", [&] { build(dir, "u.bin", "1.1.0", 1); }},
        {"p.signed.bin",
         [&] {
           make(dir, "p.bin"), make(dir, "owner.pem");
           must(dir, "privota image sign --scheme secure-boot-v2 --key owner.pem p.bin -o p.signed.bin");
         }},
        {"u.signed.bin", [&] { user_signed(dir, "u.signed.bin", "1.1.0"); }},
        {"u1.signed.bin", [&] { user_signed(dir, "u1.signed.bin", "1.0.0"); }},
        {"u2.signed.bin", [&] { user_signed(dir, "u2.signed.bin", "2.0.0"); }},
    };
    const auto recipe = recipes.find(name);
    if (recipe != recipes.end()) recipe->second();
  }
  void build(const fs::path& dir, const std::string& out, const std::string& version, int secure_version) {
    test::write_text(dir / ("payload-" + out), std::string(4000, 'x') + version);
    must(dir, "privota image build --payload payload-" + out + " --version " + version +
                  " --secure-version " + std::to_string(secure_version) + " --project hello -o " + out);
  }
  void user_signed(const fs::path& dir, const std::string& out, const std::string& version) {
    make(dir, "dev_uac.pem");
    build(dir, "unsigned-" + out, version, 1);
    must(dir, "privota image sign --scheme user-cert --key dev.pem --cert dev_uac.pem unsigned-" + out +
                  " -o " + out);
  }

  // Makes what the line reads and has not been made, and gives the placeholders values.
  std::string prepare(const fs::path& dir, std::string line) {
    // Inputs: the tokens after "privota GROUP VERB" that no part of the line writes (-o NAME).
    std::vector<std::string> tokens, outputs;
    std::stringstream words(line);
    for (std::string token; words >> token;) {
      if (!tokens.empty() && (tokens.back() == "-o" || tokens.back() == "--output")) outputs.push_back(token);
      tokens.push_back(token);
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
      const bool command_word = i < 3 || tokens[i - 1] == "&&" || (i >= 2 && tokens[i - 2] == "&&") ||
                                (i >= 3 && tokens[i - 3] == "&&");
      if (!command_word && std::find(outputs.begin(), outputs.end(), tokens[i]) == outputs.end())
        make(dir, tokens[i]);
    }
    if (line.find(" HEX") != std::string::npos) {
      make(dir, "owner.pem");
      std::string digest = sh(dir, "privota key digest owner.pem").out;
      digest.erase(digest.find_last_not_of("\n") + 1);
      line = std::regex_replace(line, std::regex(R"(\bHEX\b)"), digest);
    }
    return std::regex_replace(line, std::regex(R"(\bNAME\b)"), "hello");
  }
};

// A fleet command that talks to the broker, or the line that starts one (in the foreground): they need a
// running mosquitto with the fleet's certificates, which tests/fleet starts and drives.
bool needs_a_broker(const std::string& line) {
  return line.find("mosquitto ") != std::string::npos ||
         std::regex_search(line, std::regex(R"(^privota fleet (rollout|devices|status|resume|cancel)\b)"));
}

TEST_F(DocsCommands, EveryShownCommandRuns) {
#if defined(__SANITIZE_ADDRESS__)
  // This checks the docs, not memory: the plain build runs it. Sanitized, its ~100 CLI runs took 63 s, the
  // longest test of the ASan build, and the CLI's code under ASan is tools_tests' own.
  GTEST_SKIP() << "the docs' commands are checked in the plain build";
#endif
  std::vector<fs::path> files = {fs::path(PRIVOTA_SOURCE_DIR) / "README.md"};
  for (const auto& entry : fs::directory_iterator(fs::path(PRIVOTA_SOURCE_DIR) / "docs"))
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  std::sort(files.begin() + 1, files.end());
  size_t ran = 0;
  std::vector<std::string> skipped;
  for (const fs::path& file : files) {
    for (const auto& block : sh_blocks(file)) {
      test::TempDir dir;
      for (const DocCommand& command : block) {
        const bool runs = command.line.rfind("privota ", 0) == 0 || command.line.rfind("openssl ", 0) == 0;
        if (!runs || needs_a_broker(command.line)) {
          skipped.push_back(command.where + ": " + command.line);
          continue;
        }
        for (const std::string& line : expand_alternatives(command.line)) {
          const std::string runnable = prepare(dir.path(), line);
          const test::CommandResult r = sh(dir.path(), runnable);
          EXPECT_EQ(r.exit_code, 0) << command.where << ": " << runnable << "\n" << r.out;
          ++ran;
        }
      }
    }
  }
  EXPECT_GE(ran, 30u);
  // Not run: privota-sim needs the device (tests/device runs it), fleet commands the broker (tests/fleet),
  // the rest builds or tests.
  std::string list;
  for (const std::string& s : skipped)
    list += "  " + s + "\n";
  std::cout << "ran " << ran << " documented privota commands; skipped (need the device or the build):\n"
            << list;
}

}  // namespace
}  // namespace privota
