// privota ca new|issue: the protected app owner's user-app CA and the certificates (UACs) it issues.
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "certificate_authority.h"
#include "commands.h"
#include "file_io.h"
#include "key_file.h"
#include "tool_error.h"

namespace privota::cli {
namespace {

using tools::ToolError;

void add_new(CLI::App& group) {
  struct Options {
    std::string output, subject = tools::kDefaultCaSubject, key;
    uint32_t days = tools::kDefaultValidityDays;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("new",
                           "Create a user-app CA: a new RSA-3072 key and a self-signed certificate "
                           "(DIR/ca_key.pem, DIR/ca_cert.pem). The protected app trusts ca_cert.pem");
  cmd->add_option("-o,--output", o->output, "the CA directory to create")->required();
  cmd->add_option("--subject", o->subject, "distinguished name, e.g. 'CN=Acme user-app CA, O=Acme'")
      ->capture_default_str();
  cmd->add_option("--days", o->days, "validity in days")->capture_default_str();
  cmd->add_option("--key", o->key, "use this RSA-3072 private key instead of generating one");
  cmd->add_flag("--force", o->force, "write into a directory that is not empty (replaces its CA files)");
  cmd->callback([o] {
    tools::check_ca_destination(o->output, o->force);
    // The CA files are replaced with --force; never the key the CA is made from.
    tools::check_output({std::filesystem::path(o->output) / tools::kCaKeyFile, true, {o->key}});
    tools::Key key = [&] {
      if (!o->key.empty()) return tools::Key::load(o->key);
      tools::Random random;
      return tools::Key::generate(tools::KeyKind::kRsa3072, random);
    }();
    const auto ca = tools::CertificateAuthority::create(std::move(key), o->subject, o->days);
    ca.save(o->output, o->force);
  });
}

void add_issue(CLI::App& group) {
  struct Options {
    std::string ca, key, csr, output;
    std::optional<std::string> subject;
    uint32_t days = tools::kDefaultValidityDays;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      group.add_subcommand("issue",
                           "Issue a user-app certificate (UAC) for a developer's RSA-3072 key, given "
                           "as a key file or a certificate signing request");
  cmd->add_option("--ca", o->ca, "the CA directory (from `privota ca new`)")->required();
  CLI::Option* key = cmd->add_option("--key", o->key, "the user-app key (public or private PEM)");
  CLI::Option* csr = cmd->add_option("--csr", o->csr, "a PKCS#10 request (PEM) for the user-app key");
  key->excludes(csr);
  cmd->add_option(
      "--subject", o->subject,
      fmt::format("distinguished name (default: the CSR's, or '{}')", tools::kDefaultUserSubject));
  cmd->add_option("--days", o->days, "validity in days")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "where to write the certificate (PEM)")->required();
  cmd->add_flag("--force", o->force, "replace an existing file");
  cmd->callback([o] {
    if (o->key.empty() && o->csr.empty()) throw ToolError("give the user-app key with --key or --csr");
    const tools::OutputFile out{o->output, o->force, {o->key, o->csr}};
    tools::check_output(out);
    tools::CertificateAuthority ca = tools::CertificateAuthority::load(o->ca);
    const std::string pem = o->csr.empty()
                                ? ca.issue(tools::Key::load(o->key), o->subject, o->days)
                                : ca.issue_for_csr(tools::read_text_file(o->csr), o->subject, o->days);
    tools::write_output(out, pem);
  });
}

}  // namespace

void add_ca_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("ca", "The user-app certificate authority: new, issue");
  group->require_subcommand(1);
  add_new(*group);
  add_issue(*group);
}

}  // namespace privota::cli
