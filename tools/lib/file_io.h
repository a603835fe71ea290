// Whole-file reads and writes for the tools; failures throw ToolError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace privota::tools {

std::vector<uint8_t> read_binary_file(const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);
// Writes to a temporary file beside `path` and renames it, so a failed write never leaves half a file.
void write_file_atomically(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

// Where a command writes a result. Every command that writes a file checks it here, so one rule holds for
// all of them: a file the command reads (an input) is never written over, not even with --force (a key
// replaced by its own digest is lost for good), and any other existing file is replaced only with --force.
struct OutputFile {
  std::filesystem::path path;
  bool force = false;
  std::vector<std::filesystem::path> inputs;  // the files the command reads; empty paths are ignored
};

// Throws ToolError when `out` may not be written (see OutputFile).
void check_output(const OutputFile& out);
// check_output, then write_file_atomically.
void write_output(const OutputFile& out, const std::vector<uint8_t>& bytes);
void write_output(const OutputFile& out, const std::string& text);

}  // namespace privota::tools
