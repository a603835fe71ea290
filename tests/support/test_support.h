// Helpers shared by the test binaries: temporary directories, file I/O, running the CLI.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ostream>

#include "privota/span.h"
#include "privota/status.h"

namespace privota {
// GoogleTest prints codes by name in failure messages.
inline void PrintTo(Code code, std::ostream* os) {
  *os << code_name(code);
}
}  // namespace privota

namespace privota::test {

// A fresh directory under the system temp dir, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
void write_text(const std::filesystem::path& path, const std::string& text);
std::filesystem::path test_data(const std::string& relative);

inline ConstByteSpan span_of(const std::vector<uint8_t>& bytes) {
  return {bytes.data(), bytes.size()};
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};
// Runs a shell command line and captures what it prints.
CommandResult run_command(const std::string& command_line);

}  // namespace privota::test
