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

}  // namespace privota::tools
