// privota: partition tables, app images and flash files for privota devices.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "tool_error.h"

namespace privota::cli {

void print_output(bool json, const std::string& text, const std::string& json_text) {
  std::cout << (json ? json_text + "\n" : text);
}

}  // namespace privota::cli

int main(int argc, char** argv) {
  CLI::App app{
      "privota: fail-safe, privilege-separated OTA for microcontrollers.\n"
      "Builds partition tables, app images and device flash files, and shows what they hold."};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("privota: ") + e.what() + " (see --help)\n";
  });
  privota::cli::add_partition_commands(app);
  privota::cli::add_image_commands(app);
  privota::cli::add_flash_commands(app);
  privota::cli::add_key_commands(app);
  privota::cli::add_ca_commands(app);
  privota::cli::add_config_commands(app);
  privota::cli::add_fleet_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const privota::tools::ToolError& e) {
    std::cerr << "privota: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "privota: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
