#include "file_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "tool_error.h"

namespace privota::tools {

std::vector<uint8_t> read_binary_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ToolError(fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text_file(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_binary_file(path);
  return {bytes.begin(), bytes.end()};
}

void write_file_atomically(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw ToolError(fmt::format("cannot write '{}': {}", temp.string(), std::strerror(errno)));
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) throw ToolError(fmt::format("cannot write '{}': {}", path.string(), error.message()));
}

void check_output(const OutputFile& out) {
  for (const std::filesystem::path& input : out.inputs) {
    std::error_code error;
    if (!input.empty() && std::filesystem::equivalent(out.path, input, error)) {
      throw ToolError(fmt::format("'{}' is also this command's input '{}'; write the output to another file",
                                  out.path.string(), input.string()));
    }
  }
  if (!out.force && std::filesystem::exists(out.path))
    throw ToolError(fmt::format("'{}' already exists; use --force to replace it", out.path.string()));
}

void write_output(const OutputFile& out, const std::vector<uint8_t>& bytes) {
  check_output(out);
  write_file_atomically(out.path, bytes);
}

void write_output(const OutputFile& out, const std::string& text) {
  write_output(out, std::vector<uint8_t>(text.begin(), text.end()));
}

}  // namespace privota::tools
