// privota: partition tables, app images and flash files for privota devices.
#include <cstdio>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "tool_error.h"

namespace privota::cli {

void print_output(bool json, const std::string& text, const std::string& json_text) {
  std::cout << (json ? json_text + "\n" : text);
}

}  // namespace privota::cli

namespace {

// Exit codes, the same for every command (the --help footer and README say them).
constexpr int kExitRefused = 1;   // the command ran and refused: the line (or JSON) says why
constexpr int kExitInternal = 2;  // a bug: please report it
constexpr int kExitUsage = 64;    // the command line itself is wrong (sysexits' EX_USAGE)

bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

// A failure as the command's JSON verdict on stdout (with --json), otherwise one line on stderr.
int fail(bool json, int code, const std::string& message) {
  const std::string line = privota::tools::printable(message);
  if (json) {
    std::cout << nlohmann::json{{"ok", false}, {"error", line}, {"exit_code", code}}.dump(2) << "\n";
  } else {
    std::cerr << "privota: " << line << "\n";
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "privota: fail-safe, privilege-separated OTA for microcontrollers.\n"
      "Builds partition tables, app images and device flash files, and shows what they hold."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("privota ") + PRIVOTA_VERSION);
  app.footer(
      "Exit codes: 0 done; 1 refused (one line says why; with --json a verdict on stdout); 2 internal "
      "error; 64 usage error (the command line is wrong).");
  const bool json = wants_json(argc, argv);
  privota::cli::add_partition_commands(app);
  privota::cli::add_image_commands(app);
  privota::cli::add_flash_commands(app);
  privota::cli::add_key_commands(app);
  privota::cli::add_ca_commands(app);
  privota::cli::add_config_commands(app);
  privota::cli::add_fleet_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(json, kExitUsage, std::string(e.what()) + " (see --help)");
  } catch (const privota::tools::ToolError& e) {
    return fail(json, kExitRefused, e.what());
  } catch (const std::exception& e) {
    return fail(json, kExitInternal, std::string("internal error: ") + e.what());
  }
  return 0;
}
