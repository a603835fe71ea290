// privota key gen|digest|export-public|csr: Secure Boot v2 and user-app signing keys.
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "certificate_authority.h"
#include "certificate_request.h"
#include "commands.h"
#include "file_io.h"
#include "image_report.h"
#include "key_file.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

void add_gen(CLI::App& group) {
  struct Options {
    std::string type, output;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("gen",
                           "Generate a private key (PEM, readable by its owner only): rsa3072 for "
                           "Secure Boot v2 or user apps, ecdsa-p256 for Secure Boot v2 on chips "
                           "with ECDSA (not the ESP32-C3)");
  cmd->add_option("--type", o->type, "rsa3072 or ecdsa-p256")->required();
  cmd->add_option("-o,--output", o->output, "where to write the key")->required();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    const tools::KeyKind kind = tools::key_kind_by_name(o->type);
    tools::Random random;
    const tools::Key key = tools::Key::generate(kind, random);
    tools::write_secret_file({o->output, o->force, {}}, key.private_pem());
  });
}

void add_digest(CLI::App& group) {
  struct Options {
    std::string key, output;
    bool json = false, force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("digest",
                           "Print the Secure Boot v2 digest of a key: the SHA-256 a device trusts "
                           "(what espsecure.py digest_sbv2_public_key writes)");
  cmd->add_option("key", o->key, "key.pem (private or public)")->required();
  cmd->add_option("-o,--output", o->output, "also write the 32 digest bytes to this file");
  cmd->add_flag("--force", o->force, "replace an existing -o file (never the key itself)");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] {
    if (!o->output.empty()) tools::check_output({o->output, o->force, {o->key}});
    const tools::Key key = tools::Key::load(o->key);
    const auto digest = key.sbv2_key_digest();
    const std::string text = tools::hex(digest.data(), digest.size());
    if (!o->output.empty())
      tools::write_output({o->output, o->force, {o->key}},
                          std::vector<uint8_t>(digest.begin(), digest.end()));
    const nlohmann::json json = {{"key", o->key}, {"type", key.description()}, {"digest", text}};
    print_output(o->json, text + "\n", json.dump(2));
  });
}

void add_export_public(CLI::App& group) {
  struct Options {
    std::string key, output;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "export-public",
      "Write the public half of a key (PEM SubjectPublicKeyInfo, as espsecure.py extract_public_key): for "
      "`image verify --key`, `image attach-signature --pubkey` or whoever checks signatures");
  cmd->add_option("key", o->key, "key.pem (private; a public key is written again)")->required();
  cmd->add_option("-o,--output", o->output, "where to write the public key")->required();
  cmd->add_flag("--force", o->force, "replace an existing file (never the key itself)");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->key}};
    tools::check_output(out);
    tools::write_output(out, tools::Key::load(o->key).public_pem());
  });
}

void add_csr(CLI::App& group) {
  struct Options {
    std::string key, output, subject = tools::kDefaultUserSubject;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "csr",
      "Write a certificate signing request (PKCS#10 PEM) for a user-app key: the developer sends it to "
      "the owner, who runs `privota ca issue --csr`; the private key never leaves");
  cmd->add_option("key", o->key, "the user-app private key (RSA-3072)")->required();
  cmd->add_option("--subject", o->subject, "distinguished name, e.g. 'CN=Jane Developer, O=Acme'")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "where to write the request")->required();
  cmd->add_flag("--force", o->force, "replace an existing file (never the key itself)");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->key}};
    tools::check_output(out);
    tools::write_output(out, tools::make_user_csr(tools::Key::load(o->key), o->subject));
  });
}

}  // namespace

void add_key_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("key", "Signing keys: gen, digest, export-public, csr");
  group->require_subcommand(1);
  add_gen(*group);
  add_digest(*group);
  add_export_public(*group);
  add_csr(*group);
}

}  // namespace privota::cli
