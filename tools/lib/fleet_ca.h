// The fleet CA: vouches for the network identities of a fleet — each device (CN = its device id), the rollout
// controller and the MQTT broker — so the broker can authenticate clients by certificate (docs/fleet.md). It
// is not the user-app CA (certificate_authority.h): that one vouches for code.
//
// Profile: ECDSA P-256 keys, X.509 v3 signed with SHA-256, random 159-bit serials, subject and authority key
// identifiers. The CA carries basicConstraints CA:TRUE and keyUsage keyCertSign; a client or server
// certificate carries keyUsage digitalSignature, and the broker's also subjectAltName IP:127.0.0.1,
// DNS:localhost (the address every fleet client here connects to).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "key_file.h"

namespace privota::tools {

constexpr const char* kFleetCaSubject = "CN=privota fleet CA";
constexpr const char* kControllerId = "privota-controller";
constexpr const char* kBrokerCommonName = "127.0.0.1";
constexpr uint32_t kFleetValidityDays = 3650;

// A private key and its certificate, both PEM.
struct Identity {
  std::string key_pem;
  std::string cert_pem;

  // DIR/key.pem (mode 0600) and DIR/cert.pem, creating DIR; refuses existing files unless `overwrite`.
  void save(const std::filesystem::path& dir, bool overwrite) const;
  static Identity load(const std::filesystem::path& dir);
};

class FleetCa {
 public:
  static FleetCa create(uint32_t days);
  // DIR/key.pem and DIR/cert.pem; checks that the key belongs to the certificate and that it is a CA.
  static FleetCa load(const std::filesystem::path& dir);
  void save(const std::filesystem::path& dir, bool overwrite) const { identity_.save(dir, overwrite); }

  // A new key and a client certificate with CN = `common_name` (a device id or kControllerId).
  Identity issue_client(const std::string& common_name, uint32_t days) const;
  // A new key and the broker's server certificate (CN and SAN for 127.0.0.1).
  Identity issue_broker(uint32_t days) const;

  const std::string& certificate_pem() const { return identity_.cert_pem; }

 private:
  explicit FleetCa(Identity identity) : identity_(std::move(identity)) {}
  Identity identity_;
};

// The common name of the (first) certificate in `pem`; throws ToolError if it does not parse.
std::string certificate_common_name(const std::string& pem);

}  // namespace privota::tools
