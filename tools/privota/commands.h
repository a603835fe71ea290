// The `privota` command groups. Each adds its subcommands to the app; a subcommand's callback does the work
// and throws ToolError with the one line to print when it fails.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "key_file.h"
#include "privota/partition_table.h"

namespace privota::cli {

void add_partition_commands(CLI::App& app);
void add_image_commands(CLI::App& app);
void add_flash_commands(CLI::App& app);
void add_flash_engine_commands(CLI::App& flash_group);
void add_key_commands(CLI::App& app);
void add_ca_commands(CLI::App& app);
void add_config_commands(CLI::App& app);
void add_fleet_commands(CLI::App& app);
// `image sign` and `image verify`, added to the `image` group by add_image_commands.
void add_image_signing_commands(CLI::App& image_group);
// `image digest` and `image attach-signature`: signatures made elsewhere (an HSM).
void add_image_external_signature_commands(CLI::App& image_group);

// Throws ToolError when the chip the image is built for cannot verify a Secure Boot v2 block made with `key`
// (a device would never boot it); `name` is the image file's.
void check_chip_verifies(const std::vector<uint8_t>& image, const tools::Key& key, const std::string& name);
// Throws ToolError when the image's chip checks fewer Secure Boot v2 blocks than `blocks` (at least that
// many will be in the image).
void check_chip_takes_blocks(const std::vector<uint8_t>& image, size_t blocks, const std::string& name);

// Reads a table from a CSV, a binary table or a whole flash image, whichever `path` holds; a CSV is checked
// against `flash_size` when given. Throws ToolError.
PartitionTable load_partition_table(const std::string& path, std::optional<uint32_t> flash_size);

// Prints `json` when --json was given, otherwise `text`.
void print_output(bool json, const std::string& text, const std::string& json_text);

}  // namespace privota::cli
