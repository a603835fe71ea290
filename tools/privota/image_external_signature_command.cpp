// privota image digest|attach-signature: signing with a key the tool never sees (an HSM, a signing
// service). The signer signs the 32 bytes `image digest` writes; `attach-signature` builds the very block or
// sector `image sign` would have built around that signature, after checking that it verifies.
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "file_io.h"
#include "image_report.h"
#include "image_signer.h"
#include "key_file.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

void add_digest(CLI::App& group) {
  struct Options {
    std::string input, output;
    bool json = false, force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "digest",
      "Print the SHA-256 a signature covers (the image padded with 0xFF to 4 KiB; the same for both "
      "schemes, and for a signed image): what an external signer (HSM) must sign");
  cmd->add_option("image", o->input, "the app image, unsigned or Secure Boot v2 signed (for --append)")
      ->required();
  cmd->add_option("-o,--output", o->output, "also write the 32 digest bytes to this file");
  cmd->add_flag("--force", o->force, "replace an existing -o file");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->input}};
    if (!o->output.empty()) tools::check_output(out);
    std::array<uint8_t, 32> digest;
    try {
      digest = tools::signed_digest(tools::read_binary_file(o->input));
    } catch (const ToolError& e) {
      throw ToolError(fmt::format("'{}': {}", o->input, e.what()));
    }
    if (!o->output.empty()) tools::write_output(out, std::vector<uint8_t>(digest.begin(), digest.end()));
    const std::string text = tools::hex(digest.data(), digest.size());
    print_output(o->json, text + "\n", nlohmann::json{{"image", o->input}, {"digest", text}}.dump(2));
  });
}

void add_attach(CLI::App& group) {
  struct Options {
    std::string input, signature, pubkey, cert, output;
    bool force = false, append = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = group.add_subcommand(
      "attach-signature",
      "Sign an image with a signature made elsewhere over `privota image digest`'s 32 bytes: "
      "--pubkey for a Secure Boot v2 block (RSA-3072-PSS: 384 bytes big-endian; ECDSA P-256: DER or 64 "
      "bytes r|s), --cert for a user-app sector (RSA-3072-PSS). The signature must verify");
  cmd->add_option("image", o->input, "the unsigned app image; with --append, the Secure Boot v2 signed one")
      ->required();
  cmd->add_option("--signature", o->signature, "the signature file (binary)")->required();
  CLI::Option* pubkey =
      cmd->add_option("--pubkey", o->pubkey, "secure-boot-v2: the signer's public key (PEM)");
  cmd->add_option("--cert", o->cert, "user-cert: the signer's user-app certificate (PEM)")->excludes(pubkey);
  cmd->add_flag("--append", o->append, "secure-boot-v2: add the block after those the image carries");
  cmd->add_option("-o,--output", o->output, "where to write the signed image (never the input itself)")
      ->required();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    const tools::OutputFile out{o->output, o->force, {o->input, o->signature, o->pubkey, o->cert}};
    tools::check_output(out);
    if (o->pubkey.empty() && o->cert.empty()) {
      throw ToolError("say who signed: --pubkey KEY (Secure Boot v2) or --cert UAC (user app)");
    }
    if (!o->cert.empty() && o->append) {
      throw ToolError("--append adds Secure Boot v2 blocks; a user-app image carries one signature");
    }
    const std::vector<uint8_t> image = tools::read_binary_file(o->input);
    const std::vector<uint8_t> signature = tools::read_binary_file(o->signature);
    std::vector<uint8_t> signed_image;
    if (!o->pubkey.empty()) {
      const tools::Key key = tools::Key::load(o->pubkey);
      check_chip_verifies(image, key, o->input);
      check_chip_takes_blocks(image, o->append ? 2 : 1, o->input);
      try {
        signed_image = tools::attach_secure_boot_v2(image, key, signature, o->append);
      } catch (const ToolError& e) {
        throw ToolError(fmt::format("cannot sign '{}': {}", o->input, e.what()));
      }
    } else {
      const std::string cert = tools::read_text_file(o->cert);
      try {
        signed_image = tools::attach_user_app(image, cert, signature);
      } catch (const ToolError& e) {
        throw ToolError(fmt::format("cannot sign '{}': {}", o->input, e.what()));
      }
    }
    tools::write_output(out, signed_image);
  });
}

}  // namespace

void add_image_external_signature_commands(CLI::App& image_group) {
  add_digest(image_group);
  add_attach(image_group);
}

}  // namespace privota::cli
